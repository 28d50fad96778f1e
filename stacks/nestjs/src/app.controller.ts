import {
  Body,
  Controller,
  Get,
  Header,
  Headers,
  HttpCode,
  Post,
  Query,
  Render,
} from '@nestjs/common';
import { DigitsService, type Prediction, RowsPipe } from './digits.service.js';
import { type Class, ImageService } from './image.service.js';
import { OrdersService, type Totals } from './orders.service.js';
import { countPrimes, intParam } from './params.js';
import { UpstreamService } from './upstream.service.js';
import { type Fortune, type World, WorldService } from './world.service.js';

@Controller()
export class AppController {
  constructor(
    private readonly worlds: WorldService,
    private readonly upstreamService: UpstreamService,
    private readonly orders: OrdersService,
    private readonly digits: DigitsService,
    private readonly images: ImageService,
  ) {}

  @Get('json')
  json(): { message: string } {
    return { message: 'Hello, World!' };
  }

  @Get('plaintext')
  @Header('Content-Type', 'text/plain')
  plaintext(): string {
    return 'Hello, World!';
  }

  @Get('db')
  db(): Promise<World> {
    return this.worlds.randomWorld();
  }

  @Get('queries')
  queries(@Query('n') n?: string): Promise<World[]> {
    return this.worlds.randomWorlds(intParam(n, 1, 1, 500));
  }

  @Get('updates')
  updates(@Query('n') n?: string): Promise<World[]> {
    return this.worlds.updateRandomWorlds(intParam(n, 1, 1, 500));
  }

  @Get('fortunes')
  @Render('fortunes')
  async fortunes(): Promise<{ fortunes: Fortune[] }> {
    return { fortunes: await this.worlds.fortunes() };
  }

  @Get('upstream')
  @Header('Content-Type', 'application/json')
  upstream(@Query('ms') ms?: string): Promise<string> {
    return this.upstreamService.delay(intParam(ms, 0, 0, 10_000));
  }

  @Get('cpu')
  cpu(@Query('n') n?: string): { n: number; primes: number } {
    const limit = intParam(n, 10_000, 0, 10_000_000);
    return { n: limit, primes: countPrimes(limit) };
  }

  // The body parsers' limits are set in main.ts: text/csv up to 8 MiB, JSON and raw
  // application/octet-stream up to 1 MiB.
  @Post('aggregate')
  @HttpCode(200)
  aggregate(@Body() csv: unknown): Totals {
    return this.orders.aggregate(csv);
  }

  @Post('predict')
  @HttpCode(200)
  predict(@Body(RowsPipe) rows: number[][]): Promise<{ predictions: Prediction[] }> {
    return this.digits.predict(rows);
  }

  // A raw float32 image; its Content-Type and length are the service's to check.
  @Post('predict/image')
  @HttpCode(200)
  predictImage(
    @Headers('content-type') contentType: string | undefined,
    @Body() body: unknown,
  ): Promise<{ top5: Class[] }> {
    return this.images.classify(contentType, body);
  }
}

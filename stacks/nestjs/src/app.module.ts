import { Module } from '@nestjs/common';
import { AppController } from './app.controller.js';
import { databaseProvider } from './database.js';
import { DigitsService } from './digits.service.js';
import { ImageService } from './image.service.js';
import { OrdersService } from './orders.service.js';
import { UpstreamService } from './upstream.service.js';
import { WorldService } from './world.service.js';
import { EchoGateway, RoomGateway } from './ws.js';

@Module({
  controllers: [AppController],
  providers: [
    databaseProvider,
    WorldService,
    UpstreamService,
    OrdersService,
    DigitsService,
    ImageService,
    EchoGateway,
    RoomGateway,
  ],
})
export class AppModule {}

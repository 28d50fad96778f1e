import { BadGatewayException, Injectable } from '@nestjs/common';

/** Calls the delay service with the built-in fetch (undici: pooled keep-alive connections). */
@Injectable()
export class UpstreamService {
  private readonly baseUrl = (process.env.UPSTREAM_URL ?? 'http://127.0.0.1:9000').replace(
    /\/+$/,
    '',
  );

  /** The delay service's body, unchanged. */
  async delay(ms: number): Promise<string> {
    const response = await fetch(`${this.baseUrl}/delay?ms=${ms}`);
    const body = await response.text();
    if (!response.ok) throw new BadGatewayException(`upstream answered ${response.status}`);
    return body;
  }
}

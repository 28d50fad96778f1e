import { type ArgumentsHost, Catch, HttpException, HttpStatus } from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';
import type { Response } from 'express';

/**
 * docs/spec.md's malformed bodies: 400 with a JSON object whose `error` says what is wrong. A
 * body over the body parser's limit, which it refuses with 413, is one of them. Every other
 * exception is answered as Nest does by default.
 */
@Catch(HttpException)
export class BadBodyFilter extends BaseExceptionFilter {
  override catch(exception: HttpException, host: ArgumentsHost): void {
    const status = exception.getStatus();
    if (status !== HttpStatus.BAD_REQUEST && status !== HttpStatus.PAYLOAD_TOO_LARGE) {
      return super.catch(exception, host);
    }
    const response = host.switchToHttp().getResponse<Response>();
    response.status(HttpStatus.BAD_REQUEST).json({ error: exception.message });
  }
}

import { Module } from '@nestjs/common';
import { AppController } from './app.controller.js';
import { databaseProvider } from './database.js';
import { UpstreamService } from './upstream.service.js';
import { WorldService } from './world.service.js';
import { EchoGateway, RoomGateway } from './ws.js';

@Module({
  controllers: [AppController],
  providers: [databaseProvider, WorldService, UpstreamService, EchoGateway, RoomGateway],
})
export class AppModule {}

// docs/spec.md's WebSocket endpoints as NestJS gateways on the ws adapter (@nestjs/platform-ws):
// /ws/echo answers each message with itself; /ws/room/{id} sends each message to every member of
// the room, the sender included, in the order this process took them in. Per-message
// compression is off (ws's default for servers, said again in the gateway options).

import * as http from 'node:http';
import type { Duplex } from 'node:stream';
import type { INestApplicationContext } from '@nestjs/common';
import { WsAdapter } from '@nestjs/platform-ws';
import {
  ConnectedSocket,
  MessageBody,
  type OnGatewayConnection,
  type OnGatewayDisconnect,
  SubscribeMessage,
  WebSocketGateway,
} from '@nestjs/websockets';

const ROOM_PATH = /^\/ws\/room\/([A-Za-z0-9_-]{1,32})$/;

/** The part of a ws socket the gateways use. */
interface Socket {
  send(data: string | Buffer): void;
}

/** A path's gateway: its own path, or the rooms' gateway for any /ws/room/{id}. */
function gatewayPath(path: string): string {
  return ROOM_PATH.test(path) ? '/ws/room' : path;
}

/**
 * The ws adapter with two changes the spec needs: messages are plain text rather than Nest's
 * JSON `{event, data}` envelope (a message parser that hands every frame to the `message`
 * handler), and an upgrade is routed by path pattern, since WsAdapter matches a gateway's path
 * exactly and a room's id is part of its path. An upgrade to any other path is answered 404.
 */
export class SpecWsAdapter extends WsAdapter {
  constructor(app: INestApplicationContext) {
    super(app, { messageParser: (data) => ({ event: 'message', data }) });
  }

  protected override ensureHttpServerExists(
    port: number,
    httpServer: http.Server = http.createServer(),
  ): http.Server | undefined {
    if (this.httpServersRegistry.has(port)) return undefined;
    this.httpServersRegistry.set(port, httpServer);
    httpServer.on('upgrade', (request: http.IncomingMessage, socket: Duplex, head: Buffer) => {
      socket.on('error', () => socket.destroy());
      const url = request.url ?? '';
      const q = url.indexOf('?');
      const path = gatewayPath(q === -1 ? url : url.slice(0, q));
      const wsServer = (this.wsServersRegistry.get(port) ?? []).find((s) => s.path === path);
      if (wsServer === undefined) {
        socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
        return;
      }
      wsServer.handleUpgrade(request, socket, head, (ws: unknown) => {
        wsServer.emit('connection', ws, request);
      });
    });
    return httpServer;
  }
}

@WebSocketGateway({ path: '/ws/echo', perMessageDeflate: false })
export class EchoGateway {
  @SubscribeMessage('message')
  echo(@ConnectedSocket() client: Socket, @MessageBody() data: string | Buffer): void {
    client.send(data);
  }
}

@WebSocketGateway({ path: '/ws/room', perMessageDeflate: false })
export class RoomGateway implements OnGatewayConnection, OnGatewayDisconnect {
  // A room's members, by room id, and each member's room. A room lives in this process: the
  // stack runs one for WebSockets (stack.toml).
  private readonly rooms = new Map<string, Set<Socket>>();
  private readonly roomOf = new Map<Socket, string>();

  // Runs as the 101 is written: the client is a member from then on.
  handleConnection(client: Socket, request: http.IncomingMessage): void {
    const url = request.url ?? '';
    const q = url.indexOf('?');
    const id = ROOM_PATH.exec(q === -1 ? url : url.slice(0, q))?.[1];
    if (id === undefined) return;
    let members = this.rooms.get(id);
    if (members === undefined) {
      members = new Set();
      this.rooms.set(id, members);
    }
    members.add(client);
    this.roomOf.set(client, id);
  }

  handleDisconnect(client: Socket): void {
    const id = this.roomOf.get(client);
    if (id === undefined) return;
    this.roomOf.delete(client);
    const members = this.rooms.get(id);
    members?.delete(client);
    if (members?.size === 0) this.rooms.delete(id);
  }

  @SubscribeMessage('message')
  relay(@ConnectedSocket() client: Socket, @MessageBody() data: string | Buffer): void {
    const id = this.roomOf.get(client);
    const members = id === undefined ? undefined : this.rooms.get(id);
    for (const member of members ?? []) member.send(data);
  }
}

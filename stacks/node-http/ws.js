'use strict';

// docs/spec.md's WebSocket endpoints with ws on node:http's 'upgrade' event: /ws/echo answers
// each message with itself; /ws/room/{id} sends each message to every member of the room, the
// sender included, in the order this process took them in. Per-message compression is off.

const { WebSocketServer } = require('ws');

const ROOM_PATH = /^\/ws\/room\/([A-Za-z0-9_-]{1,32})$/;

/** Serves the WebSocket endpoints on `server`'s upgrades; anything else is answered 404. */
function attachWebSockets(server) {
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  // A room's members, by room id. A room lives in this process: the stack runs one for
  // WebSockets (stack.toml).
  const rooms = new Map();

  function join(id, socket) {
    let members = rooms.get(id);
    if (members === undefined) {
      members = new Set();
      rooms.set(id, members);
    }
    members.add(socket);
    socket.on('message', (data, isBinary) => {
      for (const member of members) member.send(data, { binary: isBinary });
    });
    socket.on('close', () => {
      members.delete(socket);
      if (members.size === 0) rooms.delete(id);
    });
  }

  server.on('upgrade', (req, socket, head) => {
    socket.on('error', () => socket.destroy());
    const q = req.url.indexOf('?');
    const path = q === -1 ? req.url : req.url.slice(0, q);
    if (path === '/ws/echo') {
      wss.handleUpgrade(req, socket, head, (ws) => {
        ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
      });
      return;
    }
    const room = ROOM_PATH.exec(path);
    if (room !== null) {
      // The callback runs as the 101 is written: the client is a member from then on.
      wss.handleUpgrade(req, socket, head, (ws) => join(room[1], ws));
      return;
    }
    socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
  });
}

module.exports = { attachWebSockets };

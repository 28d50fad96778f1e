'use strict';

const path = require('node:path');
const Fastify = require('fastify');
const db = require('./db');
const orders = require('./orders');
const digits = require('./digits');
const { loadClassifier } = require('./image');

const UPSTREAM_URL = (process.env.UPSTREAM_URL ?? 'http://127.0.0.1:9000').replace(/\/+$/, '');

/** A query parameter as an integer clamped to [min, max]; `fallback` if missing or not an integer. */
function intParam(raw, fallback, min, max) {
  if (typeof raw !== 'string' || !/^[+-]?\d+$/.test(raw)) return fallback;
  const value = Number(raw);
  return value < min ? min : value > max ? max : value;
}

/** Primes below n, by trial division exactly as docs/spec.md gives it. */
function countPrimes(n) {
  let primes = n > 2 ? 1 : 0;
  for (let k = 3; k < n; k += 2) {
    let prime = true;
    for (let d = 3; d * d <= k; d += 2) {
      if (k % d === 0) {
        prime = false;
        break;
      }
    }
    if (prime) primes++;
  }
  return primes;
}

// Response schemas: Fastify compiles them into fast-json-stringify serialisers.
const world = {
  type: 'object',
  properties: { id: { type: 'integer' }, randomNumber: { type: 'integer' } },
  required: ['id', 'randomNumber'],
};
const worlds = { type: 'array', items: world };
const schemas = {
  json: {
    response: {
      200: { type: 'object', properties: { message: { type: 'string' } }, required: ['message'] },
    },
  },
  db: { response: { 200: world } },
  worlds: { response: { 200: worlds } },
  cpu: {
    response: {
      200: {
        type: 'object',
        properties: { n: { type: 'integer' }, primes: { type: 'integer' } },
        required: ['n', 'primes'],
      },
    },
  },
  aggregate: {
    response: {
      200: {
        type: 'object',
        properties: {
          orders: { type: 'integer' },
          groups: {
            type: 'array',
            items: {
              type: 'object',
              properties: {
                region: { type: 'string' },
                category: { type: 'string' },
                count: { type: 'integer' },
                revenue: { type: 'number' },
                mean_order_value: { type: 'number' },
                top_customer: { type: 'string' },
                top_customer_revenue: { type: 'number' },
              },
            },
          },
        },
        required: ['orders', 'groups'],
      },
    },
  },
  // docs/spec.md's rows: 1 to 256 arrays of exactly 64 numbers; other keys are ignored.
  predict: {
    body: {
      type: 'object',
      properties: {
        rows: {
          type: 'array',
          minItems: 1,
          maxItems: 256,
          items: {
            type: 'array',
            minItems: digits.FEATURES,
            maxItems: digits.FEATURES,
            items: { type: 'number' },
          },
        },
      },
      required: ['rows'],
    },
    response: {
      200: {
        type: 'object',
        properties: {
          predictions: {
            type: 'array',
            items: {
              type: 'object',
              properties: {
                label: { type: 'integer' },
                probabilities: { type: 'array', items: { type: 'number' } },
              },
            },
          },
        },
        required: ['predictions'],
      },
    },
  },
};

const MiB = 1024 * 1024;

const ROOM_ID = /^[A-Za-z0-9_-]{1,32}$/;

function buildApp() {
  // No type coercion of request bodies: a string or null where /predict wants a number is a 400.
  const app = Fastify({ logger: false, ajv: { customOptions: { coerceTypes: false } } });

  app.register(require('@fastify/view'), {
    engine: { ejs: require('ejs') },
    root: path.join(__dirname, 'views'),
  });

  // docs/spec.md's WebSocket endpoints; per-message compression off. Message handlers are
  // attached synchronously in the route handler, or early messages would be lost.
  app.register(require('@fastify/websocket'), { options: { perMessageDeflate: false } });
  app.register(async (scope) => {
    // A room's members, by room id; a room lives in this process, the stack runs one for
    // WebSockets (stack.toml).
    const rooms = new Map();

    scope.get('/ws/echo', { websocket: true }, (socket) => {
      socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary }));
    });

    scope.get('/ws/room/:id', { websocket: true }, (socket, request) => {
      const id = request.params.id;
      if (!ROOM_ID.test(id)) return socket.close(1008, 'invalid room id');
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
    });
  });

  app.addHook('onRequest', (request, reply, done) => {
    reply.header('Server', 'Fastify');
    done();
  });

  app.get('/json', { schema: schemas.json }, async () => ({ message: 'Hello, World!' }));

  app.get('/plaintext', async (request, reply) => {
    reply.type('text/plain');
    return 'Hello, World!';
  });

  app.get('/db', { schema: schemas.db }, async () => db.randomWorld());

  app.get('/queries', { schema: schemas.worlds }, async (request) =>
    db.randomWorlds(intParam(request.query.n, 1, 1, 500)),
  );

  app.get('/updates', { schema: schemas.worlds }, async (request) =>
    db.updateRandomWorlds(intParam(request.query.n, 1, 1, 500)),
  );

  app.get('/fortunes', async (request, reply) =>
    reply.view('fortunes.ejs', { fortunes: await db.fortunes() }),
  );

  app.get('/upstream', async (request, reply) => {
    const ms = intParam(request.query.ms, 0, 0, 10_000);
    const upstream = await fetch(`${UPSTREAM_URL}/delay?ms=${ms}`);
    const body = await upstream.text();
    if (!upstream.ok) throw new Error(`upstream answered ${upstream.status}`);
    reply.type('application/json');
    return body;
  });

  app.get('/cpu', { schema: schemas.cpu }, async (request) => {
    const n = intParam(request.query.n, 10_000, 0, 10_000_000);
    return { n, primes: countPrimes(n) };
  });

  // docs/spec.md's POST /aggregate, POST /predict and POST /predict/image, in a scope of their
  // own: its error handler answers every bad body, the parsers' 413 and 415 included, with a 400
  // and a JSON error.
  app.register(async (scope) => {
    // The models are loaded once per worker, before it listens.
    const predict = await digits.load();
    const classify = await loadClassifier();

    scope.addContentTypeParser('text/csv', { parseAs: 'string' }, (request, body, done) =>
      done(null, body),
    );
    scope.addContentTypeParser(
      'application/octet-stream',
      { parseAs: 'buffer' },
      (request, body, done) => done(null, body),
    );

    scope.setErrorHandler((err, request, reply) => {
      const status = err.statusCode;
      if (!(status >= 400 && status < 500)) throw err;
      reply.code(400).send({ error: err.message || 'bad request' });
    });

    scope.post('/aggregate', { bodyLimit: 8 * MiB, schema: schemas.aggregate }, async (request) =>
      orders.aggregate(typeof request.body === 'string' ? request.body : ''),
    );

    scope.post('/predict', { bodyLimit: 1 * MiB, schema: schemas.predict }, async (request) =>
      predict(request.body.rows),
    );

    scope.post('/predict/image', { bodyLimit: 1 * MiB }, async (request) =>
      classify(request.headers['content-type'], request.body),
    );
  });

  return app;
}

module.exports = buildApp;

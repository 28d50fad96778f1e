// One worker of the stackwise API on Bun: Bun.serve with its route table on 127.0.0.1:PORT,
// sharing the port with the other workers (reusePort); Bun's SQL client for PostgreSQL, a
// tagged template for the fortunes page, Bun's fetch for the upstream call, nodejs-polars for
// POST /aggregate and onnxruntime-node for POST /predict.

import { aggregate, BadBody } from "./data.js";
import { fortunes, randomWorld, randomWorlds, updateRandomWorlds } from "./db.js";
import { BadImage, loadClassifier } from "./image.js";
import { BadRows, loadPredictor } from "./ml.js";
import { fortunesPage } from "./views.js";

const PORT = Number.parseInt(process.env.PORT ?? "8080", 10);
const UPSTREAM_URL = (process.env.UPSTREAM_URL ?? "http://127.0.0.1:9000").replace(/\/+$/, "");

const SERVER = "bun";
const JSON_HEADERS = { Server: SERVER, "Content-Type": "application/json" };
const TEXT_HEADERS = { Server: SERVER, "Content-Type": "text/plain; charset=utf-8" };
const HTML_HEADERS = { Server: SERVER, "Content-Type": "text/html; charset=utf-8" };

const json = (value) => Response.json(value, { headers: JSON_HEADERS });
const badRequest = (error) => Response.json({ error }, { status: 400, headers: JSON_HEADERS });

// The models are loaded once per worker, before it serves.
const predict = await loadPredictor();
const classify = await loadClassifier();

// Largest bodies taken (docs/spec.md); a larger one is answered 400.
const AGGREGATE_LIMIT = 8 * 1024 * 1024;
const PREDICT_LIMIT = 1024 * 1024;

/**
 * The request's body, or null when it is over `limit` bytes: by its Content-Length or as read
 * (Bun.serve's maxRequestBodySize, 128 MiB by default, bounds what is read).
 */
async function readBody(req, limit) {
  if (Number(req.headers.get("content-length")) > limit) return null;
  const body = Buffer.from(await req.arrayBuffer());
  return body.length > limit ? null : body;
}

/** A query parameter as an integer clamped to [min, max]; `fallback` if missing or not an integer. */
function intParam(req, name, fallback, min, max) {
  const raw = new URL(req.url).searchParams.get(name);
  if (raw === null || !/^[+-]?\d+$/.test(raw)) return fallback;
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

// docs/spec.md's WebSocket endpoints: a connection to /ws/room/{id} subscribes to the room's
// topic and the server publishes each message to every subscriber, the sender included, so
// all members share one order. A room lives in one process: the stack runs one for WebSockets
// (stack.toml). Per-message compression off.
const ROOM_ID = /^[A-Za-z0-9_-]{1,32}$/;

function upgrade(req, server, room) {
  if (server.upgrade(req, { data: { room } })) return undefined;
  return new Response("Bad Request", { status: 400, headers: TEXT_HEADERS });
}

const server = Bun.serve({
  hostname: "127.0.0.1",
  port: PORT,
  reusePort: true,
  development: false,
  routes: {
    "/json": { GET: () => json({ message: "Hello, World!" }) },
    "/plaintext": { GET: () => new Response("Hello, World!", { headers: TEXT_HEADERS }) },
    "/db": { GET: async () => json(await randomWorld()) },
    "/queries": { GET: async (req) => json(await randomWorlds(intParam(req, "n", 1, 1, 500))) },
    "/updates": {
      GET: async (req) => json(await updateRandomWorlds(intParam(req, "n", 1, 1, 500))),
    },
    "/fortunes": {
      GET: async () => new Response(fortunesPage(await fortunes()), { headers: HTML_HEADERS }),
    },
    "/upstream": {
      GET: async (req) => {
        const ms = intParam(req, "ms", 0, 0, 10_000);
        const upstream = await fetch(`${UPSTREAM_URL}/delay?ms=${ms}`);
        const body = await upstream.text();
        if (!upstream.ok) throw new Error(`upstream answered ${upstream.status}`);
        return new Response(body, { headers: JSON_HEADERS });
      },
    },
    "/aggregate": {
      POST: async (req) => {
        const body = await readBody(req, AGGREGATE_LIMIT);
        if (body === null) return badRequest("the body is over 8 MiB");
        try {
          return json(aggregate(body));
        } catch (err) {
          if (err instanceof BadBody) return badRequest(err.message);
          throw err;
        }
      },
    },
    "/predict": {
      POST: async (req) => {
        const body = await readBody(req, PREDICT_LIMIT);
        if (body === null) return badRequest("the body is over 1 MiB");
        try {
          return json(await predict(body.toString()));
        } catch (err) {
          if (err instanceof BadRows) return badRequest(err.message);
          throw err;
        }
      },
    },
    "/predict/image": {
      POST: async (req) => {
        const body = await readBody(req, PREDICT_LIMIT);
        if (body === null) return badRequest("the body is over 1 MiB");
        try {
          return json(await classify(req.headers.get("content-type"), body));
        } catch (err) {
          if (err instanceof BadImage) return badRequest(err.message);
          throw err;
        }
      },
    },
    "/ws/echo": (req, server) => upgrade(req, server, null),
    "/ws/room/:id": (req, server) => {
      const id = req.params.id;
      if (!ROOM_ID.test(id)) return new Response("Not Found", { status: 404, headers: TEXT_HEADERS });
      return upgrade(req, server, `room:${id}`);
    },
    "/cpu": {
      GET: (req) => {
        const n = intParam(req, "n", 10_000, 0, 10_000_000);
        return json({ n, primes: countPrimes(n) });
      },
    },
  },
  websocket: {
    perMessageDeflate: false,
    open(ws) {
      if (ws.data.room !== null) ws.subscribe(ws.data.room);
    },
    message(ws, message) {
      if (ws.data.room === null) ws.send(message);
      else server.publish(ws.data.room, message);
    },
  },
  fetch: () => new Response("Not Found", { status: 404, headers: TEXT_HEADERS }),
  error(err) {
    console.error(err);
    return new Response("Internal Server Error", { status: 500, headers: TEXT_HEADERS });
  },
});

// The launcher ends its workers; should it itself be killed outright, a worker that finds it
// has been re-parented exits rather than serve on alone.
const launcher = process.ppid;
setInterval(() => {
  if (process.ppid !== launcher) process.exit(1);
}, 1_000).unref();

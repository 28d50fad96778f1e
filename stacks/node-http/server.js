'use strict';

// The stackwise API on plain node:http: no framework, pg (node-postgres) for PostgreSQL,
// HTML escaped by hand, the built-in fetch (undici) for the upstream call, nodejs-polars (or
// plain JavaScript) for POST /aggregate, onnxruntime-node for POST /predict.
// The cluster primary forks WORKERS workers; each runs the server on 127.0.0.1:PORT. With
// CPU_POOL set (cpu.js), one process serves instead, and GET /cpu runs in its pool of
// worker_threads.

const cluster = require('node:cluster');
const http = require('node:http');
const os = require('node:os');
const { countPrimes, cpuPool } = require('./cpu');

const PORT = Number.parseInt(process.env.PORT ?? '8080', 10);
const HOST = '127.0.0.1';

if (cluster.isPrimary && !process.env.CPU_POOL) {
  startPrimary();
} else {
  startWorker().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}

function startPrimary() {
  const requested = Number.parseInt(process.env.WORKERS ?? '', 10);
  const workers = requested > 0 ? requested : os.availableParallelism();
  const live = new Set();
  let exitCode = null;

  // Stops every worker, waits for them (so none is left behind), then exits.
  const shutdown = (code) => {
    if (exitCode !== null) return;
    exitCode = code;
    if (live.size === 0) process.exit(code);
    for (const worker of live) worker.process.kill('SIGTERM');
    setTimeout(() => {
      for (const worker of live) worker.process.kill('SIGKILL');
      process.exit(code);
    }, 5_000);
  };

  cluster.on('exit', (worker, code, signal) => {
    live.delete(worker);
    if (exitCode !== null) {
      if (live.size === 0) process.exit(exitCode);
      return;
    }
    // Terminated along with its process group (Ctrl-C, or a supervisor stopping us): stop too.
    if (signal === 'SIGTERM' || signal === 'SIGINT') return shutdown(0);
    // A worker that dies on its own is a crash: fail loudly rather than serve with fewer workers.
    console.error(`worker ${worker.process.pid} exited (${signal ?? code}); shutting down`);
    shutdown(1);
  });
  process.on('SIGTERM', () => shutdown(0));
  process.on('SIGINT', () => shutdown(0));

  for (let i = 0; i < workers; i++) live.add(cluster.fork());
}

async function startWorker() {
  // Workers exit by themselves when the primary dies: node:cluster ends a worker whose IPC
  // channel to the primary closes unexpectedly.
  const { Pool } = require('pg');
  const { aggregator, BadBody } = require('./data');
  const { loadPredictor, BadRows } = require('./ml');
  const { loadClassifier, BadImage } = require('./image');

  const aggregate = aggregator();
  const cpuThreads = cpuPool(process.env.CPU_POOL);
  // The model is loaded once per worker, before it serves.
  const predict = await loadPredictor();
  const classify = await loadClassifier();

  const pool = new Pool({
    ...databaseConfig(),
    max: Number.parseInt(process.env.DB_POOL_MAX ?? '16', 10),
  });
  pool.on('error', (err) => console.error('idle database client error:', err.message));

  const upstreamUrl = (process.env.UPSTREAM_URL ?? 'http://127.0.0.1:9000').replace(/\/+$/, '');

  const SERVER = 'node';
  const JSON_TYPE = 'application/json';
  const TEXT_TYPE = 'text/plain; charset=utf-8';
  const HTML_TYPE = 'text/html; charset=utf-8';

  const WORLD_QUERY = {
    name: 'world-by-id',
    text: 'SELECT id, randomnumber FROM world WHERE id = $1',
  };
  const FORTUNE_QUERY = { name: 'fortunes', text: 'SELECT id, message FROM fortune' };
  const UPDATE_QUERY = {
    name: 'update-worlds',
    text:
      'UPDATE world SET randomnumber = v.randomnumber ' +
      'FROM unnest($1::int[], $2::int[]) AS v(id, randomnumber) WHERE world.id = v.id',
  };

  function send(res, status, contentType, body) {
    res.writeHead(status, {
      Server: SERVER,
      'Content-Type': contentType,
      'Content-Length': Buffer.byteLength(body),
    });
    res.end(body);
  }

  const sendJson = (res, value) => send(res, 200, JSON_TYPE, JSON.stringify(value));
  const sendError = (res, message) => send(res, 400, JSON_TYPE, JSON.stringify({ error: message }));

  // Largest bodies taken (docs/spec.md); a larger one is answered 400.
  const AGGREGATE_LIMIT = 8 * 1024 * 1024;
  const PREDICT_LIMIT = 1024 * 1024;

  /**
   * The request's body, or null when it is over `limit` bytes: by its Content-Length or as it
   * arrives. An oversized body is still read to its end, and dropped, so that the 400 is sent
   * on a connection the client has finished writing to.
   */
  function readBody(req, limit) {
    return new Promise((resolve, reject) => {
      const chunks = [];
      let size = 0;
      let over = Number(req.headers['content-length']) > limit;
      req.on('data', (chunk) => {
        if (over) return;
        size += chunk.length;
        if (size > limit) over = true;
        else chunks.push(chunk);
      });
      req.on('end', () => resolve(over ? null : Buffer.concat(chunks, size)));
      req.on('error', reject);
    });
  }

  async function getWorld(id) {
    const { rows } = await pool.query({ ...WORLD_QUERY, values: [id] });
    return { id: rows[0].id, randomNumber: rows[0].randomnumber };
  }

  const getWorlds = (n) => Promise.all(Array.from({ length: n }, () => getWorld(randomId())));

  async function updateWorlds(n) {
    // Distinct ids: one row updated twice in one batch could not hold both new numbers.
    const worlds = await Promise.all(distinctRandomIds(n).map(getWorld));
    for (const world of worlds) world.randomNumber = randomId();
    // Lock rows in id order so that concurrent batches cannot deadlock.
    const sorted = worlds.toSorted((a, b) => a.id - b.id);
    await pool.query({
      ...UPDATE_QUERY,
      values: [sorted.map((w) => w.id), sorted.map((w) => w.randomNumber)],
    });
    return worlds;
  }

  async function fortunesPage() {
    const { rows } = await pool.query(FORTUNE_QUERY);
    rows.push({ id: 0, message: 'Additional fortune added at request time.' });
    rows.sort((a, b) => (a.message < b.message ? -1 : a.message > b.message ? 1 : 0));
    let html =
      '<!DOCTYPE html><html><head><title>Fortunes</title></head><body>' +
      '<table><tr><th>id</th><th>message</th></tr>';
    for (const row of rows) {
      html += `<tr><td>${row.id}</td><td>${escapeHtml(row.message)}</td></tr>`;
    }
    return html + '</table></body></html>';
  }

  async function upstream(ms) {
    const response = await fetch(`${upstreamUrl}/delay?ms=${ms}`);
    const body = await response.text();
    if (!response.ok) throw new Error(`upstream answered ${response.status}`);
    return body;
  }

  async function handle(req, res) {
    const q = req.url.indexOf('?');
    const path = q === -1 ? req.url : req.url.slice(0, q);
    const query = q === -1 ? null : new URLSearchParams(req.url.slice(q + 1));
    const param = (name) => (query === null ? null : query.get(name));

    if (req.method === 'POST' && path === '/aggregate') {
      const body = await readBody(req, AGGREGATE_LIMIT);
      if (body === null) return sendError(res, 'the body is over 8 MiB');
      try {
        return sendJson(res, aggregate(body));
      } catch (err) {
        if (err instanceof BadBody) return sendError(res, err.message);
        throw err;
      }
    }
    if (req.method === 'POST' && path === '/predict') {
      const body = await readBody(req, PREDICT_LIMIT);
      if (body === null) return sendError(res, 'the body is over 1 MiB');
      try {
        return sendJson(res, await predict(body.toString()));
      } catch (err) {
        if (err instanceof BadRows) return sendError(res, err.message);
        throw err;
      }
    }
    if (req.method === 'POST' && path === '/predict/image') {
      const body = await readBody(req, PREDICT_LIMIT);
      if (body === null) return sendError(res, 'the body is over 1 MiB');
      try {
        return sendJson(res, await classify(req.headers['content-type'], body));
      } catch (err) {
        if (err instanceof BadImage) return sendError(res, err.message);
        throw err;
      }
    }

    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return send(res, 405, TEXT_TYPE, 'Method Not Allowed');
    }
    switch (path) {
      case '/json':
        return sendJson(res, { message: 'Hello, World!' });
      case '/plaintext':
        return send(res, 200, TEXT_TYPE, 'Hello, World!');
      case '/db':
        return sendJson(res, await getWorld(randomId()));
      case '/queries':
        return sendJson(res, await getWorlds(intParam(param('n'), 1, 1, 500)));
      case '/updates':
        return sendJson(res, await updateWorlds(intParam(param('n'), 1, 1, 500)));
      case '/fortunes':
        return send(res, 200, HTML_TYPE, await fortunesPage());
      case '/upstream':
        return send(res, 200, JSON_TYPE, await upstream(intParam(param('ms'), 0, 0, 10_000)));
      case '/cpu': {
        const n = intParam(param('n'), 10_000, 0, 10_000_000);
        const primes = cpuThreads === null ? countPrimes(n) : await cpuThreads.run(n);
        return sendJson(res, { n, primes });
      }
      default:
        return send(res, 404, TEXT_TYPE, 'Not Found');
    }
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err) => {
      console.error(err);
      if (!res.headersSent) send(res, 500, TEXT_TYPE, 'Internal Server Error');
      else res.destroy();
    });
  });
  require('./ws').attachWebSockets(server);
  server.listen(PORT, HOST);
}

function databaseConfig() {
  if (process.env.DATABASE_URL) return { connectionString: process.env.DATABASE_URL };
  return {
    host: process.env.DB_HOST ?? '127.0.0.1',
    port: Number.parseInt(process.env.DB_PORT ?? '5432', 10),
    user: process.env.DB_USER,
    password: process.env.DB_PASSWORD,
    database: process.env.DB_NAME,
  };
}

/** A query parameter as an integer clamped to [min, max]; `fallback` if missing or not an integer. */
function intParam(raw, fallback, min, max) {
  if (typeof raw !== 'string' || !/^[+-]?\d+$/.test(raw)) return fallback;
  const value = Number(raw);
  return value < min ? min : value > max ? max : value;
}

function randomId() {
  return Math.floor(Math.random() * 10_000) + 1;
}

function distinctRandomIds(n) {
  const ids = new Set();
  while (ids.size < n) ids.add(randomId());
  return [...ids];
}

const HTML_ESCAPES = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

function escapeHtml(text) {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]);
}

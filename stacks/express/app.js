'use strict';

const path = require('node:path');
const express = require('express');
const db = require('./db');
const orders = require('./orders');
const digits = require('./digits');

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

const app = express();
app.disable('x-powered-by');
app.set('views', path.join(__dirname, 'views'));
app.set('view engine', 'ejs');

app.use((req, res, next) => {
  res.set('Server', 'Express');
  next();
});

app.get('/json', (req, res) => {
  res.json({ message: 'Hello, World!' });
});

app.get('/plaintext', (req, res) => {
  res.type('text/plain').send('Hello, World!');
});

app.get('/db', async (req, res) => {
  res.json(await db.randomWorld());
});

app.get('/queries', async (req, res) => {
  res.json(await db.randomWorlds(intParam(req.query.n, 1, 1, 500)));
});

app.get('/updates', async (req, res) => {
  res.json(await db.updateRandomWorlds(intParam(req.query.n, 1, 1, 500)));
});

app.get('/fortunes', async (req, res) => {
  res.render('fortunes', { fortunes: await db.fortunes() });
});

app.get('/upstream', async (req, res) => {
  const ms = intParam(req.query.ms, 0, 0, 10_000);
  const upstream = await fetch(`${UPSTREAM_URL}/delay?ms=${ms}`);
  const body = await upstream.text();
  if (!upstream.ok) throw new Error(`upstream answered ${upstream.status}`);
  res.type('application/json').send(body);
});

app.get('/cpu', (req, res) => {
  const n = intParam(req.query.n, 10_000, 0, 10_000_000);
  res.json({ n, primes: countPrimes(n) });
});

// docs/spec.md's bodies: a CSV of orders up to 8 MiB, rows of digits as JSON up to 1 MiB, an
// image as raw float32 of 602,112 bytes.
app.post('/aggregate', express.text({ type: 'text/csv', limit: '8mb' }), (req, res) => {
  // The text parser leaves no string when the body is not text/csv.
  if (typeof req.body !== 'string' || req.body.length === 0) {
    throw new orders.BadBody('the body must be a CSV of orders (text/csv)');
  }
  res.json(orders.aggregate(req.body));
});

app.post('/predict', express.json({ limit: '1mb' }), async (req, res) => {
  res.json(await digits.predict(req.body));
});

// A raw float32 image up to 1 MiB, read whatever its Content-Type so that the classifier says
// what is wrong with it; the classifier is loaded by server.js before the app listens.
app.post('/predict/image', express.raw({ type: () => true, limit: '1mb' }), async (req, res) => {
  res.json(await req.app.locals.classify(req.headers['content-type'], req.body));
});

// A bad request body (the parsers' 400 and 413 included) gets 400 and a JSON error; anything
// else goes on to Express's own handler.
app.use((err, req, res, next) => {
  const status = err.status ?? err.statusCode;
  if (!(status >= 400 && status < 500)) return next(err);
  res.status(400).json({ error: err.message || 'bad request' });
});

module.exports = app;

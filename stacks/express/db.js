'use strict';

// PostgreSQL through pg (node-postgres): one pool per worker process, raw SQL, named prepared
// statements.

const { Pool } = require('pg');

function config() {
  if (process.env.DATABASE_URL) return { connectionString: process.env.DATABASE_URL };
  return {
    host: process.env.DB_HOST ?? '127.0.0.1',
    port: Number.parseInt(process.env.DB_PORT ?? '5432', 10),
    user: process.env.DB_USER,
    password: process.env.DB_PASSWORD,
    database: process.env.DB_NAME,
  };
}

const pool = new Pool({ ...config(), max: Number.parseInt(process.env.DB_POOL_MAX ?? '16', 10) });
pool.on('error', (err) => console.error('idle database client error:', err.message));

const WORLD_BY_ID = 'SELECT id, randomnumber FROM world WHERE id = $1';
const ALL_FORTUNES = 'SELECT id, message FROM fortune';
const UPDATE_WORLDS =
  'UPDATE world SET randomnumber = v.randomnumber ' +
  'FROM unnest($1::int[], $2::int[]) AS v(id, randomnumber) WHERE world.id = v.id';

const randomId = () => Math.floor(Math.random() * 10_000) + 1;

function distinctRandomIds(n) {
  const ids = new Set();
  while (ids.size < n) ids.add(randomId());
  return [...ids];
}

async function getWorld(id) {
  const { rows } = await pool.query({ name: 'world-by-id', text: WORLD_BY_ID, values: [id] });
  return { id: rows[0].id, randomNumber: rows[0].randomnumber };
}

/** One random world row. */
const randomWorld = () => getWorld(randomId());

/** n random world rows, one query each. */
const randomWorlds = (n) => Promise.all(Array.from({ length: n }, randomWorld));

/** n distinct random world rows, read one by one, given new random numbers in one statement. */
async function updateRandomWorlds(n) {
  // Distinct ids: one row updated twice in one batch could not hold both new numbers.
  const worlds = await Promise.all(distinctRandomIds(n).map(getWorld));
  for (const world of worlds) world.randomNumber = randomId();
  // Lock rows in id order so that concurrent batches cannot deadlock.
  const sorted = worlds.toSorted((a, b) => a.id - b.id);
  await pool.query({
    name: 'update-worlds',
    text: UPDATE_WORLDS,
    values: [sorted.map((w) => w.id), sorted.map((w) => w.randomNumber)],
  });
  return worlds;
}

/** All fortunes plus the one added at request time, sorted by message. */
async function fortunes() {
  const { rows } = await pool.query({ name: 'fortunes', text: ALL_FORTUNES });
  rows.push({ id: 0, message: 'Additional fortune added at request time.' });
  return rows.sort((a, b) => (a.message < b.message ? -1 : a.message > b.message ? 1 : 0));
}

module.exports = { randomWorld, randomWorlds, updateRandomWorlds, fortunes };

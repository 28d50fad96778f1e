// PostgreSQL through Bun's built-in SQL client (`import { SQL } from "bun"`): one pool per
// worker process, tagged-template queries, which Bun prepares and caches per connection.

import { SQL } from "bun";

function connectionUrl() {
  if (process.env.DATABASE_URL) return process.env.DATABASE_URL;
  const { DB_HOST = "127.0.0.1", DB_PORT = "5432", DB_USER = "", DB_PASSWORD = "", DB_NAME = "" } =
    process.env;
  const auth = `${encodeURIComponent(DB_USER)}:${encodeURIComponent(DB_PASSWORD)}`;
  return `postgres://${auth}@${DB_HOST}:${DB_PORT}/${DB_NAME}`;
}

const sql = new SQL({
  url: connectionUrl(),
  max: Number.parseInt(process.env.DB_POOL_MAX ?? "16", 10),
});

const randomId = () => Math.floor(Math.random() * 10_000) + 1;

function distinctRandomIds(n) {
  const ids = new Set();
  while (ids.size < n) ids.add(randomId());
  return [...ids];
}

async function getWorld(id) {
  const [row] = await sql`SELECT id, randomnumber FROM world WHERE id = ${id}`;
  return { id: row.id, randomNumber: row.randomnumber };
}

/** One random world row. */
export const randomWorld = () => getWorld(randomId());

/** n random world rows, one query each. */
export const randomWorlds = (n) => Promise.all(Array.from({ length: n }, randomWorld));

/** n distinct random world rows, read one by one, given new random numbers in one statement. */
export async function updateRandomWorlds(n) {
  // Distinct ids: one row updated twice in one batch could not hold both new numbers.
  const worlds = await Promise.all(distinctRandomIds(n).map(getWorld));
  for (const world of worlds) world.randomNumber = randomId();
  // Lock rows in id order so that concurrent batches cannot deadlock.
  const sorted = worlds.toSorted((a, b) => a.id - b.id);
  const ids = sql.array(sorted.map((w) => w.id), "INT");
  const numbers = sql.array(sorted.map((w) => w.randomNumber), "INT");
  await sql`UPDATE world SET randomnumber = v.randomnumber
    FROM unnest(${ids}::int[], ${numbers}::int[]) AS v(id, randomnumber)
    WHERE world.id = v.id`;
  return worlds;
}

/** All fortunes plus the one added at request time, sorted by message. */
export async function fortunes() {
  const rows = await sql`SELECT id, message FROM fortune`;
  rows.push({ id: 0, message: "Additional fortune added at request time." });
  return rows.sort((a, b) => (a.message < b.message ? -1 : a.message > b.message ? 1 : 0));
}

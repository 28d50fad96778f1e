import { Inject, Injectable } from '@nestjs/common';
import pg from 'pg';
import { PG_POOL } from './database.js';

export interface World {
  id: number;
  randomNumber: number;
}

export interface Fortune {
  id: number;
  message: string;
}

const WORLD_BY_ID = 'SELECT id, randomnumber FROM world WHERE id = $1';
const ALL_FORTUNES = 'SELECT id, message FROM fortune';
const UPDATE_WORLDS =
  'UPDATE world SET randomnumber = v.randomnumber ' +
  'FROM unnest($1::int[], $2::int[]) AS v(id, randomnumber) WHERE world.id = v.id';

const randomId = (): number => Math.floor(Math.random() * 10_000) + 1;

function distinctRandomIds(n: number): number[] {
  const ids = new Set<number>();
  while (ids.size < n) ids.add(randomId());
  return [...ids];
}

/** Raw SQL on the pool, as named (prepared) statements. */
@Injectable()
export class WorldService {
  constructor(@Inject(PG_POOL) private readonly pool: pg.Pool) {}

  private async getWorld(id: number): Promise<World> {
    const { rows } = await this.pool.query<{ id: number; randomnumber: number }>({
      name: 'world-by-id',
      text: WORLD_BY_ID,
      values: [id],
    });
    return { id: rows[0].id, randomNumber: rows[0].randomnumber };
  }

  /** One random world row. */
  randomWorld(): Promise<World> {
    return this.getWorld(randomId());
  }

  /** n random world rows, one query each. */
  randomWorlds(n: number): Promise<World[]> {
    return Promise.all(Array.from({ length: n }, () => this.getWorld(randomId())));
  }

  /** n distinct random world rows, read one by one, given new random numbers in one statement. */
  async updateRandomWorlds(n: number): Promise<World[]> {
    // Distinct ids: one row updated twice in one batch could not hold both new numbers.
    const worlds = await Promise.all(distinctRandomIds(n).map((id) => this.getWorld(id)));
    for (const world of worlds) world.randomNumber = randomId();
    // Lock rows in id order so that concurrent batches cannot deadlock.
    const sorted = worlds.toSorted((a, b) => a.id - b.id);
    await this.pool.query({
      name: 'update-worlds',
      text: UPDATE_WORLDS,
      values: [sorted.map((w) => w.id), sorted.map((w) => w.randomNumber)],
    });
    return worlds;
  }

  /** All fortunes plus the one added at request time, sorted by message. */
  async fortunes(): Promise<Fortune[]> {
    const { rows } = await this.pool.query<Fortune>({ name: 'fortunes', text: ALL_FORTUNES });
    rows.push({ id: 0, message: 'Additional fortune added at request time.' });
    return rows.sort((a, b) => (a.message < b.message ? -1 : a.message > b.message ? 1 : 0));
  }
}

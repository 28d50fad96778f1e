// PostgreSQL through pg (node-postgres): one pool per worker process, provided for injection.

import type { FactoryProvider } from '@nestjs/common';
import pg from 'pg';

export const PG_POOL = Symbol('PG_POOL');

function config(): pg.PoolConfig {
  if (process.env.DATABASE_URL) return { connectionString: process.env.DATABASE_URL };
  return {
    host: process.env.DB_HOST ?? '127.0.0.1',
    port: Number.parseInt(process.env.DB_PORT ?? '5432', 10),
    user: process.env.DB_USER,
    password: process.env.DB_PASSWORD,
    database: process.env.DB_NAME,
  };
}

export const databaseProvider: FactoryProvider<pg.Pool> = {
  provide: PG_POOL,
  useFactory: () => {
    const pool = new pg.Pool({
      ...config(),
      max: Number.parseInt(process.env.DB_POOL_MAX ?? '16', 10),
    });
    pool.on('error', (err) => console.error('idle database client error:', err.message));
    return pool;
  },
};

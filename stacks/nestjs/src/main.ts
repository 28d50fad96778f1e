// Cluster entry point: the primary forks WORKERS workers (default: one per CPU) and each worker
// runs the Nest application (Express adapter) on 127.0.0.1:PORT.

import cluster, { type Worker } from 'node:cluster';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { NextFunction, Request, Response } from 'express';
import { AppModule } from './app.module.js';
import { BadBodyFilter } from './bad-body.filter.js';
import { SpecWsAdapter } from './ws.js';

const PORT = Number.parseInt(process.env.PORT ?? '8080', 10);
const HOST = '127.0.0.1';

function startPrimary(): void {
  const requested = Number.parseInt(process.env.WORKERS ?? '', 10);
  const workers = requested > 0 ? requested : availableParallelism();
  const live = new Set<Worker>();
  let exitCode: number | null = null;

  // Stops every worker, waits for them (so none is left behind), then exits.
  const shutdown = (code: number): void => {
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

async function startWorker(): Promise<void> {
  // node:cluster ends a worker by itself when its IPC channel to the primary closes.
  const app = await NestFactory.create<NestExpressApplication>(AppModule, {
    logger: ['error', 'warn'],
  });
  app.useWebSocketAdapter(new SpecWsAdapter(app));
  app.disable('x-powered-by');
  app.setBaseViewsDir(fileURLToPath(new URL('../views', import.meta.url)));
  app.setViewEngine('ejs');
  app.use((req: Request, res: Response, next: NextFunction) => {
    res.setHeader('Server', 'NestJS');
    next();
  });
  // docs/spec.md's body limits; Nest's default JSON parser (100 KB) is not added after these.
  app.useBodyParser('text', { type: 'text/csv', limit: 8 * 1024 * 1024 });
  app.useBodyParser('json', { limit: 1024 * 1024 });
  app.useBodyParser('raw', { type: 'application/octet-stream', limit: 1024 * 1024 });
  app.useGlobalFilters(new BadBodyFilter(app.getHttpAdapter()));
  await app.listen(PORT, HOST);
}

if (cluster.isPrimary) {
  startPrimary();
} else {
  await startWorker();
}

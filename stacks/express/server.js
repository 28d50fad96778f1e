'use strict';

// Cluster entry point: the primary forks WORKERS workers (default: one per CPU) and each worker
// serves the Express app on 127.0.0.1:PORT.

const cluster = require('node:cluster');
const os = require('node:os');

const PORT = Number.parseInt(process.env.PORT ?? '8080', 10);
const HOST = '127.0.0.1';

if (cluster.isPrimary) {
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
} else {
  // node:cluster ends a worker by itself when its IPC channel to the primary closes.
  const app = require('./app');
  // The models are loaded once per worker, before it serves.
  Promise.all([
    require('./digits').load(),
    require('./image')
      .loadClassifier()
      .then((classify) => {
        app.locals.classify = classify;
      }),
  ])
    .then(() => {
      const server = app.listen(PORT, HOST, (err) => {
        if (err) {
          console.error(err);
          process.exit(1);
        }
      });
      require('./ws').attachWebSockets(server);
    })
    .catch((err) => {
      console.error(err);
      process.exit(1);
    });
}

// Starts WORKERS copies of server.js (default: one per CPU), each a Bun process serving
// 127.0.0.1:PORT with reusePort, so the kernel balances connections between them (SO_REUSEPORT).
// This is the multi-process pattern of Bun's guide "Start a cluster of HTTP servers". The
// workers stay in this process's group; SIGTERM or SIGINT ends them all, and a worker that dies
// on its own ends the rest (fail loudly rather than serve with fewer workers).

const requested = Number.parseInt(process.env.WORKERS ?? "", 10);
const count = requested > 0 ? requested : navigator.hardwareConcurrency;
const server = `${import.meta.dir}/server.js`;

const live = new Set();
let exitCode = null;

function shutdown(code) {
  if (exitCode !== null) return;
  exitCode = code;
  if (live.size === 0) process.exit(code);
  for (const worker of live) worker.kill("SIGTERM");
  setTimeout(() => {
    for (const worker of live) worker.kill("SIGKILL");
    process.exit(code);
  }, 5_000).unref();
}

for (let i = 0; i < count; i++) {
  const worker = Bun.spawn([process.execPath, server], {
    stdio: ["ignore", "inherit", "inherit"],
    onExit(proc, code, signal) {
      live.delete(proc);
      if (exitCode !== null) {
        if (live.size === 0) process.exit(exitCode);
        return;
      }
      // Terminated along with its process group (Ctrl-C, or a supervisor stopping us): stop too.
      if (signal === "SIGTERM" || signal === "SIGINT") return shutdown(0);
      console.error(`worker ${proc.pid} exited (${signal ?? code}); shutting down`);
      shutdown(1);
    },
  });
  live.add(worker);
}

process.on("SIGTERM", () => shutdown(0));
process.on("SIGINT", () => shutdown(0));

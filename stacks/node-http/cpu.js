'use strict';

// docs/spec.md's GET /cpu: the count of primes, and the pool of worker_threads (piscina) that
// runs it off the event loop when CPU_POOL asks for one. The pool's threads load this file and
// call countPrimes.

const os = require('node:os');

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

/**
 * The pool CPU_POOL asks for, or null when it is unset: "cpus" is one thread per CPU the
 * process may run on (os.availableParallelism() follows its CPU affinity), a number that many.
 * Every thread starts now and stays: piscina's minThreads and maxThreads are both that size.
 */
function cpuPool(setting) {
  if (!setting) return null;
  const threads = setting === 'cpus' ? os.availableParallelism() : Number(setting);
  if (!Number.isInteger(threads) || threads < 1) {
    throw new Error(`CPU_POOL is "cpus" or a number of threads, not ${JSON.stringify(setting)}`);
  }
  const { Piscina } = require('piscina');
  return new Piscina({
    filename: __filename,
    name: 'countPrimes',
    minThreads: threads,
    maxThreads: threads,
  });
}

module.exports = { countPrimes, cpuPool };

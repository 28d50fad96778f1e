/** A query parameter as an integer clamped to [min, max]; `fallback` if missing or not an integer. */
export function intParam(raw: unknown, fallback: number, min: number, max: number): number {
  if (typeof raw !== 'string' || !/^[+-]?\d+$/.test(raw)) return fallback;
  const value = Number(raw);
  return value < min ? min : value > max ? max : value;
}

/** Primes below n, by trial division exactly as docs/spec.md gives it. */
export function countPrimes(n: number): number {
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

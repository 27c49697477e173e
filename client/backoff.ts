/**
 * Delays for retrying: doubling from `minMs` up to `maxMs`, each one drawn from its upper half,
 * so that the viewers of a node that went away do not all come back in the same instant.
 */
export function createBackoff(minMs: number, maxMs: number, random: () => number = Math.random) {
  let attempt = 0;
  return {
    /** The delay before the next attempt; each call counts one attempt. */
    next(): number {
      const ceiling = Math.min(maxMs, minMs * 2 ** attempt);
      attempt = Math.min(attempt + 1, 30);
      return Math.round(ceiling / 2 + (random() * ceiling) / 2);
    },
    reset(): void {
      attempt = 0;
    },
  };
}

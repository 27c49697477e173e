/**
 * Group commit: callers add one item each and wait until it is written; items that arrive while
 * a write is in flight go out together in the next one. One caller alone waits no longer than a
 * single write, and under load many callers share each write. The pipeline uses it to turn an
 * event's notification and storage jobs into one job per batch, which is what Redis pays for.
 */
export interface GroupCommit<T> {
  /** Resolves once a write holding `item` succeeded; rejects with that write's error. */
  add(item: T): Promise<void>;
}

interface Waiting<T> {
  item: T;
  resolve: () => void;
  reject: (error: unknown) => void;
}

export function createGroupCommit<T>(
  write: (items: T[]) => Promise<void>,
  options: { maxItems: number },
): GroupCommit<T> {
  if (!Number.isInteger(options.maxItems) || options.maxItems < 1) {
    throw new RangeError(`maxItems must be a whole number from 1, not ${options.maxItems}`);
  }
  let waiting: Array<Waiting<T>> = [];
  let writing = false;

  async function writeAll(): Promise<void> {
    writing = true;
    while (waiting.length > 0) {
      const batch = waiting.slice(0, options.maxItems);
      waiting = waiting.slice(batch.length);
      try {
        await write(batch.map((entry) => entry.item));
        for (const entry of batch) entry.resolve();
      } catch (error) {
        for (const entry of batch) entry.reject(error);
      }
    }
    writing = false;
  }

  return {
    add(item) {
      return new Promise<void>((resolve, reject) => {
        waiting.push({ item, resolve, reject });
        if (!writing) void writeAll();
      });
    },
  };
}

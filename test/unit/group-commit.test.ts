import assert from 'node:assert/strict';
import { createGroupCommit } from '../../src/shared/group-commit.js';

/** A write that holds each batch until the test releases it. */
function heldWrites<T>() {
  const batches: T[][] = [];
  const releases: Array<(error?: Error) => void> = [];
  const write = (items: T[]) =>
    new Promise<void>((resolve, reject) => {
      batches.push(items);
      releases.push((error) => (error ? reject(error) : resolve()));
    });
  const tick = () => new Promise((resolve) => setImmediate(resolve));
  return { batches, releases, write, tick };
}

describe('group commit', () => {
  it('writes a lone item at once, and what arrives meanwhile together in the next write', async () => {
    const { batches, releases, write, tick } = heldWrites<number>();
    const commit = createGroupCommit(write, { maxItems: 100 });
    const settled: number[] = [];
    const add = (n: number) => commit.add(n).then(() => settled.push(n));

    const first = add(1);
    assert.deepEqual(batches, [[1]]);
    const rest = [2, 3, 4].map(add);
    await tick();
    assert.deepEqual(batches, [[1]], 'nothing else is written while the first write is in flight');

    releases[0]!();
    await first;
    assert.deepEqual(settled, [1]);
    await tick();
    assert.deepEqual(batches, [[1], [2, 3, 4]]);
    releases[1]!();
    await Promise.all(rest);
    assert.deepEqual(settled, [1, 2, 3, 4]);
  });

  it('splits a backlog into writes of at most maxItems, in order', async () => {
    const { batches, releases, write, tick } = heldWrites<number>();
    const commit = createGroupCommit(write, { maxItems: 2 });
    const all = [1, 2, 3, 4, 5].map((n) => commit.add(n));
    for (let i = 0; i < 3; i++) {
      await tick();
      releases[i]!();
    }
    await Promise.all(all);
    assert.deepEqual(batches, [[1], [2, 3], [4, 5]]);
  });

  it('rejects every item of a failed write with its error, and goes on with the next', async () => {
    const { batches, releases, write, tick } = heldWrites<string>();
    const commit = createGroupCommit(write, { maxItems: 10 });
    const a = commit.add('a');
    const b = commit.add('b');
    const c = commit.add('c');
    releases[0]!(new Error('Redis went away'));
    await assert.rejects(a, /Redis went away/);
    await tick();
    releases[1]!(new Error('still away'));
    await assert.rejects(b, /still away/);
    await assert.rejects(c, /still away/);
    const d = commit.add('d');
    await tick();
    releases[2]!();
    await d;
    assert.deepEqual(batches, [['a'], ['b', 'c'], ['d']]);
  });

  it('refuses a maxItems that is not a whole number from 1', () => {
    assert.throws(() => createGroupCommit(async () => {}, { maxItems: 0 }), /maxItems/);
  });
});

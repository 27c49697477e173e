import { Redis } from 'ioredis';

/** One command to one cluster node on a connection of its own. */
async function on<T>(port: number, command: [string, ...(string | number)[]]): Promise<T> {
  const redis = new Redis({ port, lazyConnect: true, maxRetriesPerRequest: 0 });
  redis.on('error', () => undefined); // the caller sees the rejection
  try {
    await redis.connect();
    return (await redis.call(...command)) as T;
  } finally {
    redis.disconnect();
  }
}

/** The port of the master that serves `slot` now, as `port` sees the cluster. */
export async function ownerOf(port: number, slot: number): Promise<number> {
  const ranges = await on<[number, number, [string, number]][]>(port, ['CLUSTER', 'SLOTS']);
  const range = ranges.find(([from, to]) => slot >= from && slot <= to);
  if (!range) throw new Error(`No master serves slot ${slot}`);
  return range[2][1];
}

/**
 * Moves one slot and its keys from its master to `toPort`, as `redis-cli --cluster reshard`
 * does, but for a slot of the caller's choice: IMPORTING on the target, MIGRATING on the source,
 * MIGRATE of its keys, then the new owner announced to every master (the target first). Shard
 * channels move with the slot without a copy: the source unsubscribes its subscribers of them
 * when it learns of the new owner.
 */
export async function moveSlot(
  masterPorts: number[],
  slot: number,
  toPort: number,
): Promise<{ fromPort: number; keysMoved: number }> {
  const fromPort = await ownerOf(toPort, slot);
  if (fromPort === toPort) throw new Error(`Slot ${slot} is already on ${toPort}`);
  const [fromId, toId] = await Promise.all(
    [fromPort, toPort].map((port) => on<string>(port, ['CLUSTER', 'MYID'])),
  );
  await on(toPort, ['CLUSTER', 'SETSLOT', slot, 'IMPORTING', fromId!]);
  await on(fromPort, ['CLUSTER', 'SETSLOT', slot, 'MIGRATING', toId!]);
  let keysMoved = 0;
  for (;;) {
    const keys = await on<string[]>(fromPort, ['CLUSTER', 'GETKEYSINSLOT', slot, 100]);
    if (keys.length === 0) break;
    await on(fromPort, ['MIGRATE', '127.0.0.1', toPort, '', 0, 5000, 'KEYS', ...keys]);
    keysMoved += keys.length;
  }
  await on(toPort, ['CLUSTER', 'SETSLOT', slot, 'NODE', toId!]);
  await on(fromPort, ['CLUSTER', 'SETSLOT', slot, 'NODE', toId!]);
  for (const port of masterPorts.filter((p) => p !== fromPort && p !== toPort)) {
    await on(port, ['CLUSTER', 'SETSLOT', slot, 'NODE', toId!]);
  }
  return { fromPort, keysMoved };
}

export const keySlot = (port: number, key: string): Promise<number> =>
  on<number>(port, ['CLUSTER', 'KEYSLOT', key]);

import { Redis } from 'ioredis';

/** What one redis-server has done since it started, from INFO. */
export interface RedisServerCounters {
  port: number;
  /** used_cpu_user + used_cpu_sys: the server's main thread and its helpers. */
  cpuSeconds: number;
  /** total_commands_processed: every client's commands, scripts counted once each. */
  commands: number;
  /** total_reads_processed and total_writes_processed: socket reads and writes, all clients. */
  reads: number;
  writes: number;
  /** Calls by command (INFO commandstats), lower case: `publish`, `evalsha`... */
  calls: Record<string, number>;
  /** Microseconds spent in each command (INFO commandstats `usec`); a script's own commands too. */
  usec: Record<string, number>;
}

/** One command's share of a step, summed over the servers. */
export interface CommandCost {
  command: string;
  callsPerEvent: number;
  /** Its execution time per event, µs; the rest of the servers' CPU is reading, writing and the event loop. */
  usPerEvent: number;
}

/** One step's work of one server, per event, and its share of all the servers' commands. */
export interface RedisServerStep {
  port: number;
  commandsPerEvent: number;
  cpuMsPerEvent: number;
  commandShare: number;
  /** Socket reads and writes per event: how many commands each wakeup of the server serves. */
  readsPerEvent: number;
  writesPerEvent: number;
}

const field = (text: string, name: string) =>
  Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(text)?.[1]);

/**
 * Reads the counters of the redis-servers on `ports` (each master of a cluster, or the one
 * server), each on a plain connection of its own, so that a Cluster client's routing does not
 * decide which node answers. Each reading costs every server one INFO.
 */
export function redisServerProbe(ports: number[]) {
  const clients = ports.map((port) => {
    const client = new Redis({ host: '127.0.0.1', port, maxRetriesPerRequest: 2 });
    client.on('error', () => undefined); // a reading that fails rejects; that is the report
    return client;
  });
  return {
    ports,
    read: (): Promise<RedisServerCounters[]> =>
      Promise.all(
        clients.map(async (client, i) => {
          const info = await client.info('all');
          return {
            port: ports[i]!,
            cpuSeconds: field(info, 'used_cpu_user') + field(info, 'used_cpu_sys'),
            commands: field(info, 'total_commands_processed'),
            reads: field(info, 'total_reads_processed'),
            writes: field(info, 'total_writes_processed'),
            calls: Object.fromEntries(
              [...info.matchAll(/^cmdstat_([\w|]+):calls=(\d+)/gm)].map(([, name, calls]) => [
                name!,
                Number(calls),
              ]),
            ),
            usec: Object.fromEntries(
              [...info.matchAll(/^cmdstat_([\w|]+):calls=\d+,usec=(\d+)/gm)].map(
                ([, name, usec]) => [name!, Number(usec)],
              ),
            ),
          };
        }),
      ),
    close: () => clients.forEach((client) => client.disconnect()),
  };
}

/** Per-event figures of each server between two readings, over `events` events. */
export function perEventOf(
  before: RedisServerCounters[],
  after: RedisServerCounters[],
  events: number,
): RedisServerStep[] {
  const deltas = after.map((end, i) => ({
    port: end.port,
    commands: end.commands - before[i]!.commands,
    cpuSeconds: end.cpuSeconds - before[i]!.cpuSeconds,
    reads: end.reads - before[i]!.reads,
    writes: end.writes - before[i]!.writes,
  }));
  const allCommands = deltas.reduce((sum, d) => sum + d.commands, 0);
  return deltas.map((d) => ({
    port: d.port,
    commandsPerEvent: Math.round((d.commands / events) * 10) / 10,
    cpuMsPerEvent: Math.round((d.cpuSeconds * 1e6) / events) / 1000,
    commandShare: allCommands ? Math.round((d.commands / allCommands) * 1000) / 1000 : 0,
    readsPerEvent: Math.round((d.reads / events) * 10) / 10,
    writesPerEvent: Math.round((d.writes / events) * 10) / 10,
  }));
}

/**
 * Where the servers' command time went between two readings, per event, costliest first. A
 * command a script runs counts under its own name and inside `evalsha`'s time as well, so the
 * list's sum is not the servers' CPU.
 */
export function commandCostsOf(
  before: RedisServerCounters[],
  after: RedisServerCounters[],
  events: number,
): CommandCost[] {
  const calls = new Map<string, number>();
  const usec = new Map<string, number>();
  for (const [i, end] of after.entries()) {
    const start = before[i]!;
    for (const [command, n] of Object.entries(end.calls)) {
      calls.set(command, (calls.get(command) ?? 0) + n - (start.calls[command] ?? 0));
    }
    for (const [command, us] of Object.entries(end.usec)) {
      usec.set(command, (usec.get(command) ?? 0) + us - (start.usec[command] ?? 0));
    }
  }
  return [...calls]
    .filter(([, n]) => n > 0)
    .map(([command, n]) => ({
      command,
      callsPerEvent: Math.round((n / events) * 100) / 100,
      usPerEvent: Math.round(((usec.get(command) ?? 0) / events) * 10) / 10,
    }))
    .sort((a, b) => b.usPerEvent - a.usPerEvent);
}

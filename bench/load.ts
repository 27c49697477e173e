import { Agent, request } from 'node:http';

export interface LoadResult {
  requests: number;
  seconds: number;
  perSecond: number;
  /** Answers by status; `error` for requests that got none. */
  statuses: Record<string, number>;
  latencyMs: { p50: number; p90: number; p99: number; max: number };
}

export interface OutgoingRequest {
  path: string;
  headers: Record<string, string>;
  body: string;
}

/** The value below which `q` of the sorted samples fall. */
export function percentile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

export function latencySummary(samples: number[]) {
  const sorted = [...samples].sort((a, b) => a - b);
  const round = (n: number) => Math.round(n * 100) / 100;
  return {
    p50: round(percentile(sorted, 0.5)),
    p90: round(percentile(sorted, 0.9)),
    p99: round(percentile(sorted, 0.99)),
    max: round(sorted.at(-1) ?? NaN),
  };
}

/**
 * Closed-loop HTTP load: `connections` keep-alive connections, each sending the next request as
 * soon as the last is answered, for `seconds`. The same generator, run against two servers in one
 * run, makes their figures comparable.
 */
export async function runLoad(options: {
  port: number;
  connections: number;
  seconds: number;
  next: (n: number) => OutgoingRequest;
}): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: options.connections });
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  let sent = 0;
  const started = performance.now();
  const deadline = started + options.seconds * 1000;
  const one = (outgoing: OutgoingRequest) =>
    new Promise<void>((resolve) => {
      const began = performance.now();
      const req = request(
        {
          host: '127.0.0.1',
          port: options.port,
          method: 'POST',
          path: outgoing.path,
          headers: { ...outgoing.headers, 'content-length': Buffer.byteLength(outgoing.body) },
          agent,
        },
        (res) => {
          res.resume();
          res.on('end', () => {
            latencies.push(performance.now() - began);
            statuses[res.statusCode ?? 0] = (statuses[res.statusCode ?? 0] ?? 0) + 1;
            resolve();
          });
        },
      );
      req.on('error', () => {
        statuses.error = (statuses.error ?? 0) + 1;
        resolve();
      });
      req.end(outgoing.body);
    });
  await Promise.all(
    Array.from({ length: options.connections }, async () => {
      while (performance.now() < deadline) await one(options.next(sent++));
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  agent.destroy();
  return {
    requests: latencies.length,
    seconds: Math.round(seconds * 100) / 100,
    perSecond: Math.round(latencies.length / seconds),
    statuses,
    latencyMs: latencySummary(latencies),
  };
}

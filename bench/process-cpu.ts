import { readFileSync, readdirSync } from 'node:fs';

/**
 * CPU time (ms) a process's threads have run so far, from /proc/<pid>/task/<tid>/schedstat, in
 * nanoseconds: /proc/<pid>/stat counts in 10 ms ticks, too coarse for a few µs per event.
 * `main` is the main thread alone: the event loop, as against V8's and libuv's helper threads.
 */
export function cpuMsOf(pid: number, only: 'all' | 'main' = 'all'): number {
  let ns = 0;
  for (const tid of only === 'main' ? [String(pid)] : readdirSync(`/proc/${pid}/task`)) {
    ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
  }
  return ns / 1e6;
}

/** Voluntary and involuntary context switches of a process's main thread: its wakeups. */
export function wakeupsOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/task/${pid}/status`, 'utf8');
  const count = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(status)?.[1]);
  return count('voluntary_ctxt_switches') + count('nonvoluntary_ctxt_switches');
}

/** Least squares fit of y = slope × x + intercept (at least two distinct x). */
export function fitLine(points: Array<{ x: number; y: number }>): {
  slope: number;
  intercept: number;
} {
  const n = points.length;
  const meanX = points.reduce((s, p) => s + p.x, 0) / n;
  const meanY = points.reduce((s, p) => s + p.y, 0) / n;
  const sxx = points.reduce((s, p) => s + (p.x - meanX) ** 2, 0);
  const sxy = points.reduce((s, p) => s + (p.x - meanX) * (p.y - meanY), 0);
  const slope = sxx === 0 ? 0 : sxy / sxx;
  return { slope, intercept: meanY - slope * meanX };
}

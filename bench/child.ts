import { spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { freePort, repoRoot } from '../test/helpers/processes.js';

/** Starts one of bench/'s yardstick servers as its own process, like the real ones run. */
export async function startYardstick(script: string) {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', script, String(port)], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('listening')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`${script} exited (${code})`)));
  });
  return { port, pid: child.pid!, stop: () => child.kill('SIGTERM') };
}

/** A process's resident set size, from /proc (Linux), in bytes. */
/** CPU time (user + system, in ms) a process has used so far, from /proc/<pid>/stat. */
export function cpuMsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may hold spaces; utime and stime are fields 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  if (!Number.isFinite(ticks)) throw new Error(`no CPU times for process ${pid}`);
  return (ticks * 1000) / CLOCK_TICKS_PER_SECOND;
}

/**
 * CPU time (ms) used so far by every running process whose command is `name` (`postgres`: the
 * server and all its backends). A process that exits between two readings takes its share with
 * it, so a difference of two readings is a floor.
 */
export function cpuMsOfCommand(name: string): number {
  let total = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')) === name) {
        total += cpuMsOf(Number(entry));
      }
    } catch {
      // Gone between the listing and the read.
    }
  }
  return total;
}

/** Linux's USER_HZ, 100 on every architecture Node runs on. */
const CLOCK_TICKS_PER_SECOND = 100;

export function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1]);
  if (!Number.isFinite(kb)) throw new Error(`no VmRSS for process ${pid}`);
  return kb * 1024;
}

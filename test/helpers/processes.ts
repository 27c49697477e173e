import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The built entry points, as the Procfile runs them. */
export const ENTRY = {
  web: 'dist/api/main.js',
  processor: 'dist/workers/processor.js',
  emitter: 'dist/workers/emitter.js',
  realtime: 'dist/realtime/main.js',
  release: 'dist/shared/db/migrate.main.js',
} as const;
export type ProcessType = keyof typeof ENTRY;

// fetch keeps idle connections per origin: a later stack on a port an earlier one used could
// be sent over a pooled socket to the dead process. So one test run never hands a port out twice.
const handedOut = new Set<number>();

export async function freePort(): Promise<number> {
  for (;;) {
    const port = await anyFreePort();
    if (handedOut.has(port)) continue;
    handedOut.add(port);
    return port;
  }
}

function anyFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * Processes a test started and has not stopped on purpose. A failing test prints their output
 * (see test/support/failure-output.ts), so that a flaky failure names its cause.
 */
export const unstoppedProcesses = new Set<RunningProcess>();

/** Every process this test run started, for checks over all of their logs. */
export const startedProcesses: RunningProcess[] = [];

export interface RunningProcess {
  name: string;
  child: ChildProcess;
  /** Everything the process wrote, for assertions and for failure messages. */
  output(): string;
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<void>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  exited: Promise<number | null>;
}

const KEPT_OUTPUT = 16 * 1024 * 1024;

export function startProcess(
  name: string,
  type: ProcessType,
  env: Record<string, string>,
): RunningProcess {
  // For profiling a run, e.g. CHILD_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof".
  const nodeArgs = process.env.CHILD_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  const child = spawn(process.execPath, [...nodeArgs, ENTRY[type]], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const listeners = new Set<() => void>();
  const onData = (chunk: Buffer) => {
    output += chunk.toString();
    // Bounded for long runs (the soak): far above what any test's process writes.
    if (output.length > 2 * KEPT_OUTPUT) output = output.slice(-KEPT_OUTPUT);
    for (const listener of listeners) listener();
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  const running: RunningProcess = {
    name,
    child,
    output: () => output,
    exited,
    waitForOutput(pattern, timeoutMs = 15_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (!pattern.test(output)) return;
          cleanup();
          resolve();
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(
            new Error(
              `${name} did not print ${pattern} within ${timeoutMs} ms. Output:\n${output.slice(-4000)}`,
            ),
          );
        }, timeoutMs);
        const onExit = (code: number | null) => {
          cleanup();
          reject(
            new Error(
              `${name} exited (${code}) before printing ${pattern}. Output:\n${output.slice(-4000)}`,
            ),
          );
        };
        const cleanup = () => {
          clearTimeout(timer);
          listeners.delete(check);
          child.off('exit', onExit);
        };
        listeners.add(check);
        child.once('exit', onExit);
        check();
      });
    },
    async stop(signal = 'SIGTERM') {
      unstoppedProcesses.delete(running);
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill(signal);
      return exited;
    },
  };
  unstoppedProcesses.add(running);
  startedProcesses.push(running);
  return running;
}

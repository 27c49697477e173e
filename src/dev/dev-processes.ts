import { spawn, type ChildProcess } from 'node:child_process';
import { get } from 'node:http';
import { createInterface } from 'node:readline';
import { formatLogLine } from './dev-log-format.js';

export interface ChildSpec {
  name: string;
  script: string;
  env: NodeJS.ProcessEnv;
  /** A URL that answers 200 once the process is ready, or 'exit' for a one-off that must exit 0. */
  ready: { url: string } | 'exit';
}

interface Child {
  name: string;
  process: ChildProcess;
  exited: Promise<void>;
}

const guard = new URL('./dev-orphan-guard.js', import.meta.url).href;
const answers200 = (url: string) =>
  new Promise<boolean>((resolve) => {
    const request = get(url, { timeout: 1000 }, (response) => {
      response.resume();
      resolve(response.statusCode === 200);
    });
    request.on('error', () => resolve(false));
    request.on('timeout', () => request.destroy());
  });
const alive = (child: ChildProcess) => child.exitCode === null && child.signalCode === null;

/**
 * The stack's processes: output prefixed with their name, started in their own session (so that
 * a terminal's Ctrl-C reaches only the launcher, which stops them in order), one stop for all.
 */
export function createProcessGroup(options: {
  json: boolean;
  onUnexpectedExit: (name: string, code: number | null, signal: string | null) => void;
}) {
  const children: Child[] = [];
  let stopping = false;
  const width = 12;
  return {
    pids: () => children.filter((c) => alive(c.process)).map((c) => `${c.name} ${c.process.pid}`),

    /** Starts `node script`; resolves once it is ready, rejects if it exits or is not in 60 s. */
    async start(spec: ChildSpec): Promise<void> {
      if (stopping) throw new Error('stopping');
      const child = spawn(process.execPath, ['--import', guard, spec.script], {
        env: spec.env,
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      });
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      children.push({ name: spec.name, process: child, exited });
      const prefix = `[${spec.name}]`.padEnd(width);
      for (const stream of [child.stdout, child.stderr]) {
        createInterface({ input: stream }).on('line', (line) => {
          process.stdout.write(`${prefix} ${options.json ? line : formatLogLine(line)}\n`);
        });
      }
      let ready = false;
      const outcome = new Promise<void>((resolve, reject) => {
        child.once('error', reject);
        child.once('exit', (code, signal) => {
          if (spec.ready === 'exit' && code === 0) return resolve();
          if (ready && !stopping) options.onUnexpectedExit(spec.name, code, signal);
          const how = signal ?? `code ${code}`;
          const what = spec.ready === 'exit' ? 'failed' : 'exited before it was ready';
          reject(new Error(`${spec.name} ${what} (${how})`));
        });
      });
      outcome.catch(() => undefined);
      if (spec.ready === 'exit') return outcome;
      const probe = spec.ready.url;
      const deadline = Date.now() + 60_000;
      while (!(await Promise.race([answers200(probe), outcome.then(() => false)]))) {
        if (Date.now() > deadline) throw new Error(`${spec.name} was not ready within 60 s`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      ready = true;
    },

    /** SIGTERM to every running child that `which` selects, SIGKILL to those left after `graceMs`. */
    async stop(which: (name: string) => boolean = () => true, graceMs = 15_000): Promise<void> {
      stopping = true;
      const running = children.filter((c) => alive(c.process) && which(c.name));
      await Promise.all(
        running.map(async (c) => {
          const timer = setTimeout(() => c.process.kill('SIGKILL'), graceMs);
          c.process.kill('SIGTERM');
          await c.exited;
          clearTimeout(timer);
        }),
      );
    },

    /** SIGKILL to every child still running (a second Ctrl-C). */
    kill(): void {
      for (const c of children) if (alive(c.process)) c.process.kill('SIGKILL');
    },
  };
}
export type ProcessGroup = ReturnType<typeof createProcessGroup>;

import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort, repoRoot } from './processes.js';

const NGINX = '/usr/sbin/nginx';

export interface Nginx {
  url: string;
  stop(): Promise<void>;
}

/**
 * docker/nginx.conf as compose runs it (the `server` block inside nginx's `http`), with its
 * upstream host names swapped for the test stack's ports, under the real nginx binary.
 */
export function nginxConfigFor(upstreams: { web: string[]; realtime: string[] }, port: number) {
  const source = readFileSync(path.join(repoRoot, 'docker', 'nginx.conf'), 'utf8');
  // Compose's host names, in order, become the test's addresses; every other line stays as is.
  const hosts = new Map<string, string>([
    ...upstreams.web.map((host, i) => [`web-${i + 1}:3000`, host] as const),
    ...upstreams.realtime.map((host, i) => [`realtime-${i + 1}:3001`, host] as const),
  ]);
  const replaced = source
    .replace(/server ([\w-]+:\d+);/g, (_line, name: string) => {
      const host = hosts.get(name);
      if (!host) throw new Error(`docker/nginx.conf names ${name}, which the test does not run`);
      return `server ${host};`;
    })
    .replace(/listen 8080;/, `listen 127.0.0.1:${port};`);
  if (replaced.includes('listen 8080')) {
    throw new Error('docker/nginx.conf no longer listens on 8080');
  }
  return replaced;
}

/** Starts nginx in front of the given `host:port` upstreams; fails naming nginx's own words. */
export async function startNginx(upstreams: { web: string[]; realtime: string[] }): Promise<Nginx> {
  const version = spawnSync(NGINX, ['-v']);
  if (version.error) {
    throw new Error(`No nginx at ${NGINX}: install the Debian package "nginx" (.ci/run does)`);
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'sf-nginx-'));
  const port = await freePort();
  writeFileSync(path.join(dir, 'default.conf'), nginxConfigFor(upstreams, port));
  // The main file the nginx image ships, reduced to what the server block needs, in a temp prefix.
  writeFileSync(
    path.join(dir, 'nginx.conf'),
    [
      'daemon off;',
      'worker_processes 1;',
      `pid ${dir}/nginx.pid;`,
      `error_log ${dir}/error.log warn;`,
      'events { worker_connections 512; }',
      'http {',
      '  access_log off;',
      ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map(
        (kind) => `  ${kind}_temp_path ${dir}/${kind};`,
      ),
      `  include ${dir}/default.conf;`,
      '}',
    ].join('\n'),
  );
  const args = ['-p', dir, '-c', path.join(dir, 'nginx.conf')];
  const check = spawnSync(NGINX, [...args, '-t'], { encoding: 'utf8' });
  if (check.status !== 0) throw new Error(`nginx -t refused the config:\n${check.stderr}`);

  const child = spawn(NGINX, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    const up = await fetch(`${url}/healthz`).then(
      () => true,
      () => false,
    );
    if (up) break;
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`nginx did not start: ${stderr || readErrorLog(dir)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    url,
    async stop() {
      child.kill('SIGQUIT');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function readErrorLog(dir: string): string {
  try {
    return readFileSync(path.join(dir, 'error.log'), 'utf8');
  } catch {
    return '(no error log)';
  }
}

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { CORE_SCHEMA, load, mergeTag } from 'js-yaml';
import { repoRoot } from './processes.js';

export interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile: string };
  command?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }> | string[];
  volumes?: string[];
  healthcheck?: { test: string[] };
}

export interface ComposeFile {
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
}

export const dockerDir = path.join(repoRoot, 'docker');

/** A file of docker/, as YAML with merge keys (`<<: *app`), as Compose reads it. */
export function loadComposeFile(name: string): ComposeFile {
  const text = readFileSync(path.join(dockerDir, name), 'utf8');
  return load(text, { schema: CORE_SCHEMA.withTags(mergeTag) }) as ComposeFile;
}

/** The services built from docker/Dockerfile: streamfeed's own processes. */
export function streamfeedServices(file: ComposeFile): [string, ComposeService][] {
  return Object.entries(file.services).filter(
    ([, service]) => service.build?.dockerfile === 'docker/Dockerfile',
  );
}

/** The file on this machine that a service's bind mount puts at `containerPath`. */
export function hostPathOf(service: ComposeService, containerPath: string): string {
  for (const volume of service.volumes ?? []) {
    const [source, target] = volume.split(':');
    if (target === containerPath && source?.startsWith('.')) return path.join(dockerDir, source);
  }
  throw new Error(`No bind mount of ${containerPath} in ${JSON.stringify(service.volumes)}`);
}

/**
 * A value after Compose's interpolation: `${NAME:-default}`, `${NAME:?error}`, `${NAME}` from
 * `env`, and `$$` for a literal `$`.
 */
export function interpolate(value: string, env: Record<string, string>): string {
  return value.replace(
    /\$\$|\$\{([A-Z0-9_]+)(?::([-?])([^}]*))?\}/g,
    (whole, name?: string, kind?: string, word?: string) => {
      if (whole === '$$') return '$';
      const set = env[name!];
      if (set !== undefined && set !== '') return set;
      if (kind === '-') return word ?? '';
      if (kind === '?') throw new Error(`${name}: ${word}`);
      return '';
    },
  );
}

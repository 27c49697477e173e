import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export interface DevSecrets {
  TWITCH_EVENTSUB_SECRET: string;
  SESSION_SECRET: string;
}

const KEYS = ['TWITCH_EVENTSUB_SECRET', 'SESSION_SECRET'] as const;

/**
 * Secrets made once per data folder (`dev-secrets.json`, mode 0600), so that sessions and
 * EventSub subscriptions survive a restart. A missing or unreadable key is made anew.
 */
export function loadDevSecrets(dataDir: string): DevSecrets {
  const file = path.join(dataDir, 'dev-secrets.json');
  let stored: Partial<Record<string, unknown>> = {};
  if (existsSync(file)) {
    try {
      stored = JSON.parse(readFileSync(file, 'utf8')) as Partial<Record<string, unknown>>;
    } catch {
      stored = {};
    }
  }
  const valid = (value: unknown): value is string =>
    typeof value === 'string' && /^[\x21-\x7e]{32,100}$/.test(value);
  if (KEYS.every((key) => valid(stored[key]))) {
    chmodSync(file, 0o600);
    return stored as unknown as DevSecrets;
  }
  const secrets = Object.fromEntries(
    KEYS.map((key) => [key, valid(stored[key]) ? stored[key] : randomBytes(32).toString('hex')]),
  ) as unknown as DevSecrets;
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(file, `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600 });
  chmodSync(file, 0o600); // writeFileSync keeps the mode of a file that already existed
  return secrets;
}

import { pino, type Logger } from 'pino';

export type LogScope = 'api' | 'worker' | 'realtime' | 'queue' | 'lifecycle' | 'db';
export type { Logger };

/** One JSON logger per process; `scope` tells which part of the system wrote a line. */
export function createLogger(level: string, name: string): Logger {
  return pino({
    level,
    base: { process: name, pid: process.pid },
    // Secrets must never reach a log line, whatever object is logged.
    redact: {
      paths: [
        'secret',
        '*.secret',
        'token',
        '*.token',
        'headers.authorization',
        'headers.cookie',
        '*.headers.authorization',
        'req.headers["twitch-eventsub-message-signature"]',
      ],
      censor: '[redacted]',
    },
  });
}

export const scoped = (log: Logger, scope: LogScope): Logger => log.child({ scope });

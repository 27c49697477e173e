import type { Logger } from './logger.js';

type Step = () => unknown;

/**
 * Ordered teardown shared by SIGTERM/SIGINT and tests. Lower `order` runs first; steps of one
 * order run together. Typical order: 0 stop taking work, 1 finish work in hand, 2 connections.
 */
export interface Shutdown {
  register(name: string, order: number, step: Step): void;
  run(reason: string): Promise<void>;
  listen(): void;
}

export function createShutdown(log: Logger, timeoutMs: number): Shutdown {
  const steps: Array<{ name: string; order: number; step: Step }> = [];
  let running: Promise<void> | undefined;

  async function runSteps(reason: string): Promise<void> {
    log.info({ reason }, `Shutting down (${reason})`);
    const orders = [...new Set(steps.map((s) => s.order))].sort((a, b) => a - b);
    for (const order of orders) {
      const group = steps.filter((s) => s.order === order);
      const results = await Promise.allSettled(group.map((s) => Promise.resolve().then(s.step)));
      results.forEach((result, i) => {
        if (result.status === 'rejected') {
          log.error(
            { err: result.reason, step: group[i]?.name },
            `Shutdown step ${group[i]?.name} failed`,
          );
        }
      });
    }
    log.info('Shutdown complete');
  }

  return {
    register(name, order, step) {
      steps.push({ name, order, step });
    },
    run(reason) {
      running ??= runSteps(reason);
      return running;
    },
    listen() {
      const onSignal = (signal: NodeJS.Signals) => {
        const timer = setTimeout(() => {
          log.error({ timeoutMs }, `Shutdown took longer than ${timeoutMs} ms, exiting anyway`);
          process.exit(1);
        }, timeoutMs);
        timer.unref();
        this.run(signal).then(
          () => process.exit(0),
          (error: unknown) => {
            log.error({ err: error }, 'Shutdown failed');
            process.exit(1);
          },
        );
      };
      process.once('SIGTERM', onSignal);
      process.once('SIGINT', onSignal);
    },
  };
}

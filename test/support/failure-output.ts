import { unstoppedProcesses } from '../helpers/processes.js';

const TAIL_CHARS = 3000;

/**
 * Root hook: when a test fails, print the end of the output of every process the tests started
 * and did not stop on purpose. A failure in CI, where nothing else survives the run, then shows
 * what the processes said, and which of them had exited, at that moment.
 */
export const mochaHooks = {
  afterEach(this: Mocha.Context) {
    if (this.currentTest?.state !== 'failed' || unstoppedProcesses.size === 0) return;
    for (const running of unstoppedProcesses) {
      const { exitCode, signalCode, pid } = running.child;
      const state =
        exitCode === null && signalCode === null
          ? `running, pid ${pid}`
          : `exited ${exitCode ?? signalCode}`;
      process.stderr.write(
        `\n----- ${running.name} (${state}), last output -----\n${running.output().slice(-TAIL_CHARS)}\n`,
      );
    }
  },
};

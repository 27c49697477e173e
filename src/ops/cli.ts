import { ConfigError, loadConfig, type ConfigFor, type ProcessRole } from '../shared/config.js';

/** A wrong command line: the tool prints the message (with its usage) and exits 2. */
export class UsageError extends Error {}

/**
 * What every operator tool does before its own work: one line on stderr and an exit code for
 * whatever goes wrong (2 for the command line, 1 for the configuration), never a stack trace.
 */
export function operatorCli(name: string) {
  const fail = (line: string, code: number): never => {
    process.stderr.write(`${name}: ${line}\n`);
    process.exit(code);
  };
  return {
    fail,
    readCommand: <C>(args: string[], parse: (args: string[]) => C, usage: string): C => {
      if (args.length === 0) fail(`nothing to do\n${usage}`, 2);
      try {
        return parse(args);
      } catch (error) {
        if (error instanceof UsageError) fail(error.message, 2);
        throw error;
      }
    },
    readConfig: <R extends ProcessRole>(role: R): ConfigFor<R> => {
      try {
        return loadConfig(role);
      } catch (error) {
        if (error instanceof ConfigError) {
          fail(`invalid configuration: ${error.problems.join('; ')}`, 1);
        }
        throw error;
      }
    },
  };
}

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { repoRoot } from '../helpers/processes.js';

const PROMETHEUS_DIR = path.join(repoRoot, 'docker/prometheus');

/** promtool in docker/prometheus; its whole output, for the assertion message. */
function promtool(...args: string[]) {
  const run = spawnSync('promtool', args, { cwd: PROMETHEUS_DIR, encoding: 'utf8' });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

describe('Prometheus alert rules (docker/prometheus) under the real promtool', function () {
  this.timeout(30_000);
  before(() => {
    if (spawnSync('promtool', ['--version']).error) {
      throw new Error('promtool is not installed: apt-get install prometheus (.ci/run does)');
    }
  });

  it('are valid rules', () => {
    const check = promtool('check', 'rules', 'alerts.yml');
    assert.equal(check.status, 0, check.output);
    assert.match(check.output, /SUCCESS: \d+ rules found/);
  });

  it('fire as alerts.test.yml expects: the EventSub cost budget at 80 % and 95 %, events in the default partition', () => {
    const test = promtool('test', 'rules', 'alerts.test.yml');
    assert.equal(test.status, 0, test.output);
    assert.match(test.output, /SUCCESS/);
  });
});

import assert from 'node:assert/strict';
import { reshardAway, runFailover } from '../helpers/failover.js';

describe('a Redis Cluster master SIGKILLed under a steady stream, its replica taking over', function () {
  this.timeout(240_000);

  it('with REDIS_ACK_REPLICAS=1 stores and delivers every acknowledged event once', async () => {
    const run = await runFailover({ ackReplicas: 1 });
    const { report, total } = run;
    assert.equal(report.acknowledged, total, 'Twitch got every message acknowledged in the end');
    assert.ok(
      (report.statuses.get(503) ?? 0) + report.unanswered.length > 0,
      `the failover was felt: ${JSON.stringify([...report.statuses])}`,
    );
    assert.ok(run.failoverMs > 0, 'the replica took over');
    assert.ok(run.overAtAcknowledged < total, 'mid-stream');
    assert.equal(run.lostFromStore, 0, 'no acknowledged event missing from PostgreSQL');
    assert.equal(run.storedTwice, 0, 'none stored twice');
    for (const watcher of run.watchers) {
      assert.equal(watcher.unique, total, 'every event reached the watcher');
      assert.equal(watcher.deliveries, total, 'none twice');
    }
  });
});

describe('resharding a Redis Cluster while events flow', function () {
  this.timeout(240_000);

  it('moves the slots of a callback queue and a watched feed to another master, losing and doubling nothing', async () => {
    const run = await runFailover({ ackReplicas: 0, disrupt: reshardAway });
    assert.equal(run.report.acknowledged, run.total);
    assert.ok(
      run.overAtAcknowledged < run.total,
      `the slots moved mid-stream (${run.failoverMs} ms)`,
    );
    assert.equal(run.lostFromStore, 0, 'no acknowledged event missing from PostgreSQL');
    assert.equal(run.storedTwice, 0, 'none stored twice');
    for (const watcher of run.watchers) {
      assert.equal(watcher.unique, run.total, 'every event reached the watcher');
      assert.equal(watcher.deliveries, run.total, 'none twice');
    }
  });
});

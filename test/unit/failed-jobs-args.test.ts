import assert from 'node:assert/strict';
import { z } from 'zod';
import { UsageError, oneLine, parseFailedJobsArgs } from '../../src/ops/failed-jobs.js';

describe('the failed-jobs command line', () => {
  it('reads list with an optional limit, and retry with optional job ids', () => {
    assert.deepEqual(parseFailedJobsArgs(['list', 'eventPersist']), {
      action: 'list',
      queue: 'eventPersist',
      limit: 50,
    });
    assert.deepEqual(parseFailedJobsArgs(['list', 'twitchCallbacks', '--limit', '200']), {
      action: 'list',
      queue: 'twitchCallbacks',
      limit: 200,
    });
    assert.deepEqual(parseFailedJobsArgs(['retry', 'eventPersist', 'a', 'b']), {
      action: 'retry',
      queue: 'eventPersist',
      jobIds: ['a', 'b'],
    });
  });

  it('names the part it cannot use', () => {
    const cases: Array<[string[], RegExp]> = [
      [[], /unknown action ""/],
      [['delete', 'eventPersist'], /unknown action "delete"/],
      [['list'], /unknown queue ""/],
      [['list', 'bull'], /unknown queue "bull"/],
      [['list', 'eventPersist', '--limit', '0'], /unexpected --limit 0/],
      [['list', 'eventPersist', '--limit', 'ten'], /unexpected --limit ten/],
      [['list', 'eventPersist', '--top', '5'], /unexpected --top 5/],
    ];
    for (const [args, message] of cases) {
      assert.throws(
        () => parseFailedJobsArgs(args),
        (error: unknown) => {
          assert.ok(error instanceof UsageError);
          assert.match(error.message, message);
          return true;
        },
      );
    }
  });

  it('says what it takes in the same line', () => {
    assert.throws(
      () => parseFailedJobsArgs(['list', 'bull']),
      /unknown queue "bull" \(queues: twitchCallbacks, eventPersist, /,
    );
    assert.throws(
      () => parseFailedJobsArgs(['delete']),
      /use list <queue> \[--limit N\], or retry/,
    );
  });

  it('puts a zod error of a failed job on one line, each issue with its path', () => {
    const parsed = z
      .object({ event: z.object({ user_id: z.string() }), type: z.enum(['a', 'b']) })
      .safeParse({ event: { user_id: 1 }, type: 'c' });
    assert.ok(!parsed.success);
    const reason = `Unusable EventSub notification m1: ${z.prettifyError(parsed.error)}`;
    assert.ok(reason.includes('\n'));
    assert.equal(
      oneLine(reason),
      'Unusable EventSub notification m1: ✖ Invalid option: expected one of "a"|"b" → at type; ' +
        '✖ Invalid input: expected string, received number → at event.user_id',
    );
    assert.equal(oneLine('plain reason'), 'plain reason');
  });
});

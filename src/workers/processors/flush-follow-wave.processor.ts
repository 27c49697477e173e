import type { Job } from 'bullmq';
import type { FlushFollowWaveJob } from '../../shared/queues.js';
import type { FollowWaves } from '../../shared/feed/follow-waves.js';
import type { FeedPublisher } from '../feed-publisher.js';

/**
 * A follow wave's trailing update: the state it has now, sent a second after the last one, so
 * that watchers end with the wave's final count however its last follows fell.
 */
export function createFlushFollowWaveProcessor(deps: {
  waves: Pick<FollowWaves, 'flush'>;
  publisher: FeedPublisher;
}) {
  return async function flushFollowWave(job: Job<FlushFollowWaveJob>): Promise<void> {
    const { broadcasterId, waveId } = job.data;
    const state = await deps.waves.flush(broadcasterId, waveId);
    // Forgotten (an hour after its last follow): watchers had every update already.
    if (!state) return;
    await deps.publisher.publish([{ broadcasterId, seq: state.seq, updated: state.wave }]);
  };
}

import type { StreamerRecord } from '../../shared/db/streamer-store.js';
import type { BackfillRecord } from '../../shared/db/follow-backfill-store.js';
import { FOLLOWERS_SCOPE } from '../../shared/backfill-jobs.js';

/** `GET /api/me`'s `backfill`: whether follows missed while streamfeed was away can be fetched. */
export interface BackfillView {
  /** `ready`: they will be; `no_consent`: the streamer did not grant the scope; `no_token`: streamfeed holds no usable token of theirs. */
  status: 'ready' | 'no_consent' | 'no_token';
  scope: string;
  lastRun: {
    at: string;
    status: BackfillRecord['status'];
    from: string | null;
    fetched: number;
    added: number;
  } | null;
}

/** The streamer's backfill as their own page shows it; null for a viewer who is no streamer. */
export function backfillView(
  streamer: StreamerRecord | null,
  lastRun: BackfillRecord | null,
): BackfillView | null {
  if (!streamer) return null;
  const granted = streamer.grantedScopes.includes(FOLLOWERS_SCOPE);
  // A run that found the token scope-less or unusable outranks the grant recorded at login.
  const refused = lastRun?.status === 'no_consent' || lastRun?.status === 'no_token';
  return {
    status: !granted
      ? 'no_consent'
      : refused
        ? (lastRun.status as 'no_consent' | 'no_token')
        : 'ready',
    scope: FOLLOWERS_SCOPE,
    lastRun: lastRun && {
      at: lastRun.ranAt.toISOString(),
      status: lastRun.status,
      from: lastRun.gapFrom?.toISOString() ?? null,
      fetched: lastRun.fetched,
      added: lastRun.added,
    },
  };
}

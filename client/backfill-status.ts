import type { BackfillStatus } from './api.js';

const CONNECT = '/auth/twitch/streamer';

/** The streamer's line about follows missed while streamfeed was away; hidden for anyone else. */
export function showBackfillStatus(line: HTMLElement, backfill: BackfillStatus | null | undefined) {
  line.hidden = !backfill;
  if (!backfill) return line.replaceChildren();
  const link = (text: string) => {
    const a = document.createElement('a');
    a.href = CONNECT;
    a.textContent = text;
    return a;
  };
  line.dataset.status = backfill.status;
  switch (backfill.status) {
    case 'ready': {
      const last = backfill.lastRun;
      line.replaceChildren(
        'Follows you get while streamfeed is away are fetched from Twitch when it is back' +
          (last?.status === 'done' ? ` (last time: ${last.added} added).` : '.'),
      );
      return;
    }
    case 'no_consent':
      line.replaceChildren(
        `Follows you get while streamfeed is away are not fetched: you have not let streamfeed read your followers (${backfill.scope}). `,
        link('Connect your channel'),
        ' to allow it.',
      );
      return;
    case 'no_token':
      line.replaceChildren(
        'Follows you get while streamfeed is away are not fetched: streamfeed no longer holds your Twitch login. ',
        link('Connect your channel again'),
        '.',
      );
  }
}

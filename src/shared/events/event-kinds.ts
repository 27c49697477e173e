/**
 * The kinds of event a viewer can show or hide on the event page, and the EventSub types each
 * stands for. One module for the API (validation, the history's `kinds` filter, per-minute
 * counts) and the page (toggles, live filtering), so both always agree on what a kind holds.
 */
export const EVENT_KINDS = [
  // A follow wave's entry stands for the follows it took in: hiding follows hides it too.
  {
    id: 'follows',
    label: 'Follows',
    icon: 'follow',
    types: ['channel.follow', 'channel.follow.wave'],
  },
  {
    id: 'subs',
    label: 'Subs and gifts',
    icon: 'sub',
    types: [
      'channel.subscribe',
      'channel.subscription.gift',
      'channel.subscription.message',
      'channel.subscription.end',
    ],
  },
  { id: 'cheers', label: 'Cheers', icon: 'bits', types: ['channel.cheer'] },
  { id: 'raids', label: 'Raids', icon: 'raid', types: ['channel.raid'] },
  {
    id: 'hype-trains',
    label: 'Hype trains',
    icon: 'bits',
    types: ['channel.hype_train.begin', 'channel.hype_train.progress', 'channel.hype_train.end'],
  },
  {
    id: 'polls',
    label: 'Polls and predictions',
    icon: 'poll',
    types: [
      'channel.poll.begin',
      'channel.poll.progress',
      'channel.poll.end',
      'channel.prediction.begin',
      'channel.prediction.progress',
      'channel.prediction.lock',
      'channel.prediction.end',
    ],
  },
  {
    id: 'redemptions',
    label: 'Channel-point redemptions',
    icon: 'poll',
    types: ['channel.channel_points_custom_reward_redemption.add'],
  },
  {
    id: 'chat',
    label: 'Chat notifications',
    icon: 'chat',
    types: ['channel.chat.notification', 'channel.chat.message'],
  },
  {
    id: 'stream',
    label: 'Stream status',
    icon: 'live',
    types: ['stream.online', 'stream.offline', 'channel.update'],
  },
] as const;

export type EventKind = (typeof EVENT_KINDS)[number]['id'];

export const EVENT_KIND_IDS: readonly EventKind[] = EVENT_KINDS.map((kind) => kind.id);

/**
 * Types no kind holds, shown whatever a viewer hides: moderation and a streamer (dis)connecting
 * streamfeed are rare and about the feed itself. A type streamfeed does not know at all (the
 * generic normaliser's) belongs to no kind either; it is shown only while nothing is hidden.
 */
export const ALWAYS_SHOWN_TYPES: readonly string[] = [
  'channel.ban',
  'user.authorization.grant',
  'user.authorization.revoke',
];

/**
 * What the per-minute counts call the types of no kind: ALWAYS_SHOWN_TYPES and unknown ones.
 * Not a kind a viewer can hide; the chart draws it beside the kinds.
 */
export const OTHER_EVENTS = { id: 'other', label: 'Other events' } as const;

const KIND_OF_TYPE = new Map<string, EventKind>(
  EVENT_KINDS.flatMap((kind) => kind.types.map((type) => [type, kind.id] as const)),
);

export const isEventKind = (value: unknown): value is EventKind =>
  typeof value === 'string' && (EVENT_KIND_IDS as readonly string[]).includes(value);

/** The kind an event type belongs to, or null (always shown, or unknown). */
export const kindOfType = (type: string): EventKind | null => KIND_OF_TYPE.get(type) ?? null;

/** The event types a page that shows only `kinds` lists: theirs and the always-shown ones. */
export function typesShownFor(kinds: readonly EventKind[]): string[] {
  const types = EVENT_KINDS.filter((kind) => kinds.includes(kind.id)).flatMap((k) => k.types);
  return [...types, ...ALWAYS_SHOWN_TYPES];
}

/** Whether a page that hides `hidden` shows an event of `type` (see ALWAYS_SHOWN_TYPES). */
export function isShown(type: string, hidden: ReadonlySet<EventKind>): boolean {
  const kind = kindOfType(type);
  if (kind) return !hidden.has(kind);
  return ALWAYS_SHOWN_TYPES.includes(type) || hidden.size === 0;
}

export const STREAMER_ROOM_PREFIX = 'streamer:';

/** The Socket.IO room that holds every viewer watching one streamer. */
export const streamerRoom = (broadcasterId: string): string =>
  `${STREAMER_ROOM_PREFIX}${broadcasterId}`;

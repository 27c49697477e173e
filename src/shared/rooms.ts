/** The Socket.IO room that holds every viewer watching one streamer. */
export const streamerRoom = (broadcasterId: string): string => `streamer:${broadcasterId}`;

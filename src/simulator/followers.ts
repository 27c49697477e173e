/** One follow as the simulator keeps it: `followedAt` to the nanosecond, as EventSub sends it. */
export interface SimFollow {
  broadcasterId: string;
  userId: string;
  userLogin: string;
  userName: string;
  followedAt: string;
  /** Breaks ties between follows of the same instant: the later follow has the higher number. */
  order: number;
}

/** Newest first, as Helix lists followers. */
const newestFirst = (a: SimFollow, b: SimFollow) =>
  a.followedAt === b.followedAt ? b.order - a.order : a.followedAt < b.followedAt ? 1 : -1;

/**
 * Who follows whom, for Helix `GET /channels/followers`. Every follow the simulator makes is
 * recorded here, whether or not a webhook delivered it, so a test can make follows happen while
 * streamfeed is down and see it fetch them afterwards.
 */
export function createFollowerStore() {
  const byChannel = new Map<string, Map<string, SimFollow>>();
  let counter = 0;
  return {
    /** Records a follow; following again replaces the earlier one (a re-follow). */
    follow(follow: Omit<SimFollow, 'order'>): SimFollow {
      const channel = byChannel.get(follow.broadcasterId) ?? new Map<string, SimFollow>();
      byChannel.set(follow.broadcasterId, channel);
      const existing = channel.get(follow.userId);
      if (existing?.followedAt === follow.followedAt) return existing;
      const recorded = { ...follow, order: ++counter };
      channel.set(follow.userId, recorded);
      return recorded;
    },
    unfollow(broadcasterId: string, userId: string): boolean {
      return byChannel.get(broadcasterId)?.delete(userId) ?? false;
    },
    /** A channel's followers, newest first. */
    list(broadcasterId: string): SimFollow[] {
      return [...(byChannel.get(broadcasterId)?.values() ?? [])].sort(newestFirst);
    },
  };
}
export type FollowerStore = ReturnType<typeof createFollowerStore>;

import { api, ApiError, type FeedEvent, type Me } from './api.js';
import { showEmbeds } from './embeds.js';
import { createFeedList } from './feed-list.js';
import { connectLiveFeed, type LiveFeed } from './live-feed.js';
import { fetchMissedEvents } from './catch-up.js';
import { isolated } from './summary-text.js';
import { showBackfillStatus } from './backfill-status.js';
import { createKindFilter } from './kind-filter.js';
import { createPerMinuteChart } from './per-minute-chart.js';
import { EVENT_KIND_IDS, type EventKind } from '../src/shared/events/event-kinds.js';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const views = ['login-view', 'pick-view', 'feed-view'] as const;
const LOGIN_ERRORS: Record<string, string> = {
  denied: 'You cancelled the Twitch login.',
  state: 'That login link expired or was not ours. Please log in again.',
  failed: 'Twitch login failed. Please try again.',
};
let live: LiveFeed | undefined;
/** Stops the chart's refreshes of the feed shown before. */
let stopChart: (() => void) | undefined;
/** The viewer's hidden kinds as last chosen on this page (or read from /api/me). */
let hiddenKinds: EventKind[] = [];
/** Saves run one after another, each sending the choice as it is then: the last one wins. */
let saving: Promise<void> = Promise.resolve();

function show(view: (typeof views)[number]): void {
  for (const id of views) $(id).hidden = id !== view;
}

function renderAccount(me: Me): void {
  const account = $('account');
  account.replaceChildren();
  const name = document.createElement('span');
  name.textContent = me.displayName;
  const logout = document.createElement('button');
  logout.type = 'button';
  logout.className = 'link';
  logout.textContent = 'Log out';
  logout.addEventListener('click', () => void api.logout().finally(() => location.assign('/')));
  account.append(name, logout);
}

async function showFeed(me: Me): Promise<void> {
  const favorite = me.favorite!;
  show('feed-view');
  $('feed-title').textContent = favorite.displayName;
  document.title = `${favorite.displayName} · streamfeed`;
  showEmbeds($('player'), $('chat'), favorite.login, await api.config());
  // Only the streamer, on their own feed, is told whether missed follows can be fetched; asked
  // afresh, as choosing themself just now made them a streamer streamfeed knows.
  showBackfillStatus($('backfill-status'), null);
  if (favorite.id === me.id) {
    void api.me().then(
      (fresh) => showBackfillStatus($('backfill-status'), fresh.backfill),
      () => undefined,
    );
  }
  const feed = createFeedList($<HTMLOListElement>('events'), $('no-events'), $('replay-note'));
  void api.streamer(favorite.id).then(
    (info) => {
      if (info.canReplay) {
        feed.enableReplay((event) =>
          api.replay(favorite.id, event.id).then(
            () => null,
            (failure: unknown) =>
              failure instanceof ApiError && failure.status === 429
                ? 'One replay at a time: please wait a few seconds.'
                : 'Could not replay that event.',
          ),
        );
      }
      const kinds = [...new Set(info.eventTypes.map((t) => t.split('.')[1]!.replace(/_/g, ' ')))];
      // The name is the streamer's own text: isolated, so that its direction stays its own.
      const name = isolated(info.displayName);
      $('unlocked').replaceChildren(
        ...(info.streamerMode
          ? [name, ` connected their channel: this feed shows ${kinds.join(', ')}.`]
          : [
              `This feed shows ${kinds.join(', ')}. Follows, subs, cheers and more appear once `,
              name,
              ' connects their channel to streamfeed.',
            ]),
      );
    },
    () => undefined,
  );
  feed.clear();
  stopChart?.();
  const chart = createPerMinuteChart($('per-minute'), favorite.id, () => filter.hidden());
  stopChart = () => chart.stop();
  let loads = 0;
  /** Live events that came while the latest events were loading (null: not loading). */
  let arrived: FeedEvent[] | null = null;
  const recount = () => {
    filter.count(feed.types());
    $('no-events').textContent =
      filter.hidden().size > 0
        ? 'No events of the kinds shown yet. They appear here as they happen.'
        : 'No events yet. They appear here as they happen.';
  };
  const list = (events: FeedEvent[]) => {
    feed.add(events.filter((event) => filter.shows(event.type)));
    recount();
  };
  /** The latest events of the kinds shown: the server fills the page with them. */
  const loadLatest = async () => {
    const load = ++loads;
    arrived = [];
    const hidden = filter.hidden();
    const kinds = EVENT_KIND_IDS.filter((kind) => !hidden.has(kind));
    let events: FeedEvent[];
    try {
      ({ events } = await api.events(favorite.id, hidden.size > 0 ? kinds : undefined));
    } catch (error) {
      if (load === loads) arrived = null;
      throw error;
    }
    // A later choice started its own load, which lists what came meanwhile.
    if (load !== loads) return;
    const late = arrived ?? [];
    arrived = null;
    feed.clear();
    list([...[...events].reverse(), ...late]);
  };
  const filter = createKindFilter($('kinds'), hiddenKinds, (hidden) => {
    hiddenKinds = [...hidden];
    // At once what is now hidden goes; the reload then fills the page with what is shown.
    feed.retain((type) => filter.shows(type));
    recount();
    void loadLatest().catch(() => undefined);
    chart.redraw();
    const error = $('kinds-error');
    saving = saving
      .then(() => api.setPreferences({ hiddenKinds }))
      .then(
        () => {
          error.textContent = '';
        },
        () => {
          error.textContent = 'Could not save your choice; it applies on this page only for now.';
        },
      );
  });
  await loadLatest();
  live?.close();
  live = connectLiveFeed({
    broadcasterId: favorite.id,
    newestId: feed.newestId,
    onEvents: (events) => {
      arrived?.push(...events);
      list(events);
      chart.soon();
    },
    // A hidden kind's wave grows unseen; a replay marks a row only if the page shows it.
    onUpdated: (event) => {
      if (filter.shows(event.type)) feed.update(event);
    },
    onReplayed: (replay) => feed.markReplayed(replay),
    fetchMissed: (since) => fetchMissedEvents(favorite.id, since),
    onReset: (events) => {
      feed.clear();
      list(events);
    },
    onState: (state, label) => {
      const connection = $('connection');
      connection.dataset.state = state;
      connection.textContent = label;
    },
  });
}

function showPicker(): void {
  show('pick-view');
  $<HTMLInputElement>('favorite-login').focus();
}

async function start(): Promise<void> {
  const error = new URLSearchParams(location.search).get('login_error');
  let me: Me;
  try {
    me = await api.me();
  } catch (failure) {
    if (!(failure instanceof ApiError) || failure.status !== 401) throw failure;
    $('login-error').textContent = error ? (LOGIN_ERRORS[error] ?? LOGIN_ERRORS.failed!) : '';
    return show('login-view');
  }
  renderAccount(me);
  hiddenKinds = me.preferences.hiddenKinds;
  $('change-streamer').addEventListener('click', () => {
    live?.close();
    showPicker();
  });
  $<HTMLFormElement>('favorite-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const input = $<HTMLInputElement>('favorite-login');
    const message = $('favorite-error');
    const login = input.value.trim();
    if (!/^[A-Za-z0-9_]{4,25}$/.test(login)) {
      message.textContent = 'A Twitch login has 4 to 25 letters, digits or underscores.';
      return;
    }
    message.textContent = '';
    api.setFavorite(login).then(
      ({ favorite }) => void showFeed({ ...me, favorite }),
      (failure: unknown) => {
        message.textContent =
          failure instanceof ApiError && failure.status === 404
            ? `Twitch has no streamer called “${login}”.`
            : 'Could not set the favourite. Please try again.';
      },
    );
  });
  if (me.favorite) await showFeed(me);
  else showPicker();
}

void start();

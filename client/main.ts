import { api, ApiError, type Me } from './api.js';
import { showEmbeds } from './embeds.js';
import { createFeedList } from './feed-list.js';
import { connectLiveFeed, type LiveFeed } from './live-feed.js';
import { fetchMissedEvents } from './catch-up.js';
import { isolated } from './summary-text.js';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const views = ['login-view', 'pick-view', 'feed-view'] as const;
const LOGIN_ERRORS: Record<string, string> = {
  denied: 'You cancelled the Twitch login.',
  state: 'That login link expired or was not ours. Please log in again.',
  failed: 'Twitch login failed. Please try again.',
};
let live: LiveFeed | undefined;

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
  const { events } = await api.events(favorite.id);
  feed.add([...events].reverse());
  live?.close();
  live = connectLiveFeed({
    broadcasterId: favorite.id,
    newestId: feed.newestId,
    onEvents: (events) => feed.add(events),
    onUpdated: (event) => feed.update(event),
    onReplayed: (replay) => feed.markReplayed(replay),
    fetchMissed: (since) => fetchMissedEvents(favorite.id, since),
    onReset: (events) => {
      feed.clear();
      feed.add(events);
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

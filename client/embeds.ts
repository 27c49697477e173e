import type { ClientConfig } from './api.js';

/** Twitch's player and chat iframes; `parent` must be the page's host (PROTOCOL.md section 5). */
export function showEmbeds(
  player: HTMLElement,
  chat: HTMLElement,
  login: string,
  config: ClientConfig,
): void {
  if (!config.embeds) {
    const note =
      '<p class="placeholder">The live player and chat appear here when streamfeed runs against real Twitch (the simulator has no video).</p>';
    player.innerHTML = note;
    chat.innerHTML = note;
    return;
  }
  const channel = encodeURIComponent(login);
  const parent = encodeURIComponent(config.parent);
  player.innerHTML = `<iframe title="Live player" allowfullscreen src="https://player.twitch.tv/?channel=${channel}&parent=${parent}&muted=true"></iframe>`;
  chat.innerHTML = `<iframe title="Chat" src="https://www.twitch.tv/embed/${channel}/chat?parent=${parent}"></iframe>`;
}

/** A browser's cookie jar, just enough for one site. */
export class Browser {
  /** Sent with every request, as a proxy in front of `web` would add `x-forwarded-for`. */
  constructor(private readonly defaultHeaders: Record<string, string> = {}) {}
  cookies = new Map<string, string>();
  setCookies: string[] = [];
  async get(url: string, init: RequestInit = {}): Promise<Response> {
    const response = await fetch(url, {
      ...init,
      redirect: 'manual',
      headers: {
        ...this.defaultHeaders,
        ...(init.headers as Record<string, string>),
        cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '),
      },
    });
    // A browser reads every response to its end before it reuses the connection.
    const body = await response.arrayBuffer();
    for (const line of response.headers.getSetCookie()) {
      this.setCookies.push(line);
      const [pair] = line.split(';');
      const [name, value] = pair!.split('=');
      if (value === '' || /Expires=Thu, 01 Jan 1970/.test(line)) this.cookies.delete(name!);
      else this.cookies.set(name!, value!);
    }
    const bodyless = [204, 205, 304].includes(response.status);
    return new Response(bodyless ? null : body, {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
  }
}

/** Logs `login` in through the simulator's consent shortcut; throws unless it worked. */
export function logInThroughSimulator(
  webUrl: string,
  login: string,
  browser = new Browser(),
): Promise<Browser> {
  return logInVia(`${webUrl}/auth/twitch`, login, browser);
}

/** The same through streamer mode ("Connect your channel"): the grant holds every scope asked. */
export function logInAsStreamer(
  webUrl: string,
  login: string,
  browser = new Browser(),
): Promise<Browser> {
  return logInVia(`${webUrl}/auth/twitch/streamer`, login, browser);
}

async function logInVia(loginUrl: string, login: string, browser: Browser): Promise<Browser> {
  const start = await browser.get(loginUrl);
  const authorize = new URL(start.headers.get('location') ?? 'about:blank');
  authorize.searchParams.set('sim_login', login);
  const approved = await fetch(authorize, { redirect: 'manual' });
  await approved.arrayBuffer();
  const callback = await browser.get(approved.headers.get('location') ?? 'about:blank');
  if (callback.headers.get('location') !== '/') {
    throw new Error(
      `login of ${login} failed: ${callback.status} ${callback.headers.get('location')}`,
    );
  }
  return browser;
}

import { randomBytes, randomInt, randomUUID } from 'node:crypto';

/** A Twitch user as Helix `GET /users` describes one (camelCase here, snake_case on the wire). */
export interface SimUser {
  id: string;
  login: string;
  displayName: string;
  type: '' | 'admin' | 'global_mod' | 'staff';
  broadcasterType: '' | 'affiliate' | 'partner';
  description: string;
  profileImageUrl: string;
  offlineImageUrl: string;
  email: string;
  createdAt: string;
}

/** A registered Twitch application (always a Confidential client here). */
export interface SimClient {
  clientId: string;
  clientSecret: string;
  /** Registered OAuth redirect URIs; `/authorize` and `/token` require an exact match. */
  redirectUris: string[];
}

export interface SimToken {
  accessToken: string;
  clientId: string;
  kind: 'user' | 'app';
  userId: string | null;
  scopes: string[];
  expiresAt: number;
  refreshToken: string | null;
}

export interface SimAuthorizationCode {
  code: string;
  clientId: string;
  userId: string;
  scopes: string[];
  redirectUri: string;
  expiresAt: number;
}

export type SubscriptionStatus =
  | 'enabled'
  | 'webhook_callback_verification_pending'
  | 'webhook_callback_verification_failed'
  | 'notification_failures_exceeded'
  | 'authorization_revoked'
  | 'user_removed'
  | 'version_removed';

export interface SimSubscription {
  id: string;
  clientId: string;
  status: SubscriptionStatus;
  type: string;
  version: string;
  condition: Record<string, string>;
  createdAt: string;
  callback: string;
  secret: string;
  cost: number;
}

/** Token lifetimes as Twitch's examples show them (user ~4 h, app ~58 days). */
export const USER_TOKEN_SECONDS = 14_400;
export const APP_TOKEN_SECONDS = 5_011_271;
export const CODE_SECONDS = 600;

const token = () =>
  randomBytes(15)
    .toString('base64url')
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '0');

/** Everything the simulator knows, in memory: it is a stand-in for Twitch, not a store. */
export function createSimState(options: { clients: SimClient[]; now?: () => number }) {
  const now = options.now ?? Date.now;
  const users = new Map<string, SimUser>();
  const clients = new Map(options.clients.map((c) => [c.clientId, c]));
  const tokens = new Map<string, SimToken>();
  const refreshTokens = new Map<string, SimToken>();
  const codes = new Map<string, SimAuthorizationCode>();
  const subscriptions = new Map<string, SimSubscription>();
  /** userId -> clientId -> scopes the user granted that client. */
  const grants = new Map<string, Map<string, Set<string>>>();

  return {
    now,
    users,
    clients,
    tokens,
    refreshTokens,
    codes,
    subscriptions,
    grants,

    addUser(login: string, extra: Partial<SimUser> = {}): SimUser {
      const existing = this.userByLogin(login);
      if (existing) return existing;
      const id = extra.id ?? String(randomInt(10_000_000, 999_999_999));
      const user: SimUser = {
        id,
        login: login.toLowerCase(),
        displayName: extra.displayName ?? login,
        type: '',
        broadcasterType: extra.broadcasterType ?? '',
        description: extra.description ?? '',
        profileImageUrl:
          extra.profileImageUrl ??
          `https://static-cdn.jtvnw.net/jtv_user_pictures/${id}-profile_image-300x300.png`,
        offlineImageUrl: '',
        email: `${login.toLowerCase()}@example.com`,
        createdAt: new Date(now()).toISOString(),
        ...extra,
      };
      users.set(user.id, user);
      return user;
    },

    userByLogin(login: string): SimUser | undefined {
      const wanted = login.toLowerCase();
      for (const user of users.values()) if (user.login === wanted) return user;
      return undefined;
    },

    grantedScopes(userId: string, clientId: string): Set<string> {
      return grants.get(userId)?.get(clientId) ?? new Set();
    },

    grant(userId: string, clientId: string, scopes: string[]): void {
      const byClient = grants.get(userId) ?? new Map<string, Set<string>>();
      const set = byClient.get(clientId) ?? new Set<string>();
      for (const scope of scopes) set.add(scope);
      byClient.set(clientId, set);
      grants.set(userId, byClient);
    },

    issueUserToken(clientId: string, userId: string, scopes: string[]): SimToken {
      const issued: SimToken = {
        accessToken: token(),
        clientId,
        kind: 'user',
        userId,
        scopes,
        expiresAt: now() + USER_TOKEN_SECONDS * 1000,
        refreshToken: token() + token(),
      };
      tokens.set(issued.accessToken, issued);
      refreshTokens.set(issued.refreshToken!, issued);
      return issued;
    },

    issueAppToken(clientId: string): SimToken {
      const issued: SimToken = {
        accessToken: token(),
        clientId,
        kind: 'app',
        userId: null,
        scopes: [],
        expiresAt: now() + APP_TOKEN_SECONDS * 1000,
        refreshToken: null,
      };
      tokens.set(issued.accessToken, issued);
      return issued;
    },

    /** The live token behind an `Authorization: Bearer|OAuth <token>` header, or null. */
    tokenFromHeader(header: string | undefined): SimToken | null {
      const match = /^(?:Bearer|OAuth)\s+(\S+)$/i.exec(header ?? '');
      const found = match ? tokens.get(match[1]!) : undefined;
      if (!found || found.expiresAt <= now()) return null;
      return found;
    },

    revokeToken(accessToken: string): boolean {
      const found = tokens.get(accessToken);
      if (!found) return false;
      tokens.delete(accessToken);
      if (found.refreshToken) refreshTokens.delete(found.refreshToken);
      return true;
    },

    newSubscriptionId: () => randomUUID(),
  };
}

export type SimState = ReturnType<typeof createSimState>;

import { Router, type Request, type RequestHandler } from 'express';
import passport from 'passport';
import twitch from 'passport-twitch-new';
import type { Logger } from '../../shared/logger.js';
import type { SessionUser } from './session-user.js';
import type { UserTokens } from '../../shared/auth/user-tokens.js';

export interface TwitchLoginOptions {
  clientId: string;
  clientSecret: string;
  authUrl: string;
  apiUrl: string;
  publicUrl: string;
  tokens: UserTokens;
  /** Records the viewer in PostgreSQL; called once per login. */
  saveUser(user: SessionUser): Promise<void>;
  /** Streamer mode: the user granted these scopes for their own channel. */
  onChannelConnected(user: SessionUser, scopes: string[]): Promise<void>;
  /** The scopes `/auth/twitch/streamer` asks for. */
  streamerScopes: string[];
  log: Logger;
}

interface HelixUser {
  id: string;
  login: string;
  display_name: string;
  profile_image_url: string;
}

/** passport-twitch-new hard-codes Twitch's Helix URL for the profile; fetch it from TWITCH_API_URL. */
async function fetchProfile(
  apiUrl: string,
  clientId: string,
  accessToken: string,
): Promise<HelixUser> {
  const response = await fetch(`${apiUrl}/users`, {
    headers: { authorization: `Bearer ${accessToken}`, 'client-id': clientId },
    signal: AbortSignal.timeout(10_000),
  });
  if (!response.ok) throw new Error(`Twitch did not return the profile (${response.status})`);
  const user = ((await response.json()) as { data: HelixUser[] }).data[0];
  if (!user) throw new Error('Twitch returned no profile for the token');
  return user;
}

const backToStart = (reason: string) => `/?login_error=${encodeURIComponent(reason)}`;

/** `/auth/twitch`, its callback and `/auth/logout`: Twitch login with no scope by default. */
export function twitchLoginRoutes(options: TwitchLoginOptions): Router {
  const strategy = new twitch.Strategy(
    {
      clientID: options.clientId,
      clientSecret: options.clientSecret,
      authorizationURL: `${options.authUrl}/authorize`,
      tokenURL: `${options.authUrl}/token`,
      callbackURL: `${options.publicUrl}/auth/twitch/callback`,
      scope: [],
      state: true,
      passReqToCallback: true,
      // The profile is fetched in the verify callback, from TWITCH_API_URL.
      skipUserProfile: true,
    },
    (
      req: Request,
      accessToken: string,
      refreshToken: string,
      params: { scope?: unknown },
      _profile: unknown,
      done: (error: unknown, user?: SessionUser) => void,
    ) => {
      fetchProfile(options.apiUrl, options.clientId, accessToken)
        .then(async (profile) => {
          const user: SessionUser = {
            id: profile.id,
            login: profile.login,
            displayName: profile.display_name,
            profileImageUrl: profile.profile_image_url,
          };
          await options.saveUser(user);
          const scopes = Array.isArray(params.scope)
            ? params.scope.filter((s): s is string => typeof s === 'string')
            : [];
          if (scopes.length) await options.onChannelConnected(user, scopes);
          // Kept until the session exists (after login regenerates it); see the callback below.
          (req as Request & { twitchToken?: unknown }).twitchToken = {
            accessToken,
            refreshToken: refreshToken || null,
          };
          done(null, user);
        })
        .catch(done);
    },
  );
  passport.use('twitch', strategy);
  passport.serializeUser((user, done) => done(null, user));
  passport.deserializeUser((user: SessionUser, done) => done(null, user));

  const router = Router();
  router.get('/twitch', passport.authenticate('twitch', { session: false }) as RequestHandler);
  // Streamer mode: the same login, asking for the scopes that unlock the channel's other events.
  router.get(
    '/twitch/streamer',
    passport.authenticate('twitch', {
      session: false,
      scope: options.streamerScopes,
    }) as RequestHandler,
  );
  router.get('/twitch/callback', (req, res, next) => {
    if (typeof req.query.error === 'string') {
      options.log.info({ error: req.query.error }, `Twitch login declined: ${req.query.error}`);
      return res.redirect(backToStart(req.query.error === 'access_denied' ? 'denied' : 'failed'));
    }
    const authenticate = passport.authenticate(
      'twitch',
      (error: unknown, user: SessionUser | false) => {
        if (error || !user) {
          options.log.warn(
            { err: error },
            `Twitch login failed: ${error ? String((error as Error).message) : 'state mismatch or missing code'}`,
          );
          return res.redirect(backToStart(error ? 'failed' : 'state'));
        }
        // passport 0.7 regenerates the session on login: a fixated session id never logs in.
        req.logIn(user, (loginError) => {
          if (loginError) return next(loginError);
          const token = (
            req as Request & { twitchToken?: { accessToken: string; refreshToken: string | null } }
          ).twitchToken;
          const remember = token
            ? options.tokens.remember(user.id, token, req.sessionID)
            : Promise.resolve();
          // passport has saved the session already: one whose token could not be tracked must
          // not stay logged in, since no validation would ever end it.
          remember.then(
            () => res.redirect('/'),
            (error: unknown) => req.session.destroy(() => next(error)),
          );
        });
      },
    ) as RequestHandler;
    authenticate(req, res, next);
  });
  router.post('/logout', (req, res, next) => {
    const user = req.user;
    const sessionId = req.sessionID;
    req.logOut((error) => {
      if (error) return next(error);
      req.session.destroy(() => {
        const forget = user ? options.tokens.forgetSession(user.id, sessionId) : Promise.resolve();
        forget.then(() => res.clearCookie('sf.sid').status(204).end(), next);
      });
    });
  });
  return router;
}

import { randomBytes } from 'node:crypto';
import express, { Router, type Request, type Response } from 'express';
import { authorizePage } from './authorize-page.js';
import { CODE_SECONDS, type SimClient, type SimState, type SimToken } from './sim-state.js';

const LOGIN = /^[A-Za-z0-9_]{4,25}$/;
const AUTHORIZE_PARAMS = [
  'client_id',
  'redirect_uri',
  'response_type',
  'scope',
  'state',
  'force_verify',
] as const;

interface AuthorizeRequest {
  client: SimClient;
  redirectUri: string;
  scopes: string[];
  /** The query as received, echoed into the consent form's hidden fields. */
  params: Record<string, string>;
}

const oauthError = (res: Response, status: number, message: string) =>
  void res.status(status).json({ status, message });

/** Twitch takes the token endpoints' fields from a form body or from the query string. */
const param = (req: Request, name: string): string | undefined => {
  const fromBody = (req.body as Record<string, unknown> | undefined)?.[name];
  const value = typeof fromBody === 'string' ? fromBody : req.query[name];
  return typeof value === 'string' ? value : undefined;
};

/** Checks client, redirect_uri and response_type; on failure answers 400 and returns null. */
function authorizeRequest(state: SimState, req: Request, res: Response): AuthorizeRequest | null {
  const params: Record<string, string> = {};
  for (const name of AUTHORIZE_PARAMS) {
    const value = param(req, name);
    if (value !== undefined) params[name] = value;
  }
  const client = state.clients.get(params.client_id ?? '');
  if (!client) return (oauthError(res, 400, 'invalid client'), null);
  const redirectUri = params.redirect_uri ?? '';
  // Never redirect anywhere but a registered URI (exact match): that keeps codes from leaking.
  if (!client.redirectUris.includes(redirectUri)) {
    return (oauthError(res, 400, 'redirect mismatch'), null);
  }
  if (params.response_type !== 'code') {
    return (oauthError(res, 400, 'unsupported response_type'), null);
  }
  const scopes = [...new Set((params.scope ?? '').split(' ').filter(Boolean))];
  return { client, redirectUri, scopes, params };
}

function redirectBack(res: Response, request: AuthorizeRequest, query: Record<string, string>) {
  const target = new URL(request.redirectUri);
  for (const [name, value] of Object.entries(query)) target.searchParams.set(name, value);
  if (request.params.state !== undefined) target.searchParams.set('state', request.params.state);
  res.set('Cache-Control', 'no-store').redirect(302, target.toString());
}

/** id.twitch.tv's OAuth endpoints: authorize, token (3 grants), validate, revoke. */
export function createOAuthRouter(state: SimState): Router {
  const router = Router();
  const form = express.urlencoded({ extended: false, limit: '16kb' });

  const tokenBody = (token: SimToken) => ({
    access_token: token.accessToken,
    expires_in: Math.floor((token.expiresAt - state.now()) / 1000),
    ...(token.refreshToken ? { refresh_token: token.refreshToken } : {}),
    ...(token.kind === 'user' ? { scope: token.scopes } : {}),
    token_type: 'bearer',
  });
  const sendToken = (res: Response, token: SimToken) =>
    void res.set('Cache-Control', 'no-store').json(tokenBody(token));

  function approve(res: Response, request: AuthorizeRequest, login: string) {
    const user = state.addUser(login);
    state.grant(user.id, request.client.clientId, request.scopes);
    const code = randomBytes(15).toString('hex');
    state.codes.set(code, {
      code,
      clientId: request.client.clientId,
      userId: user.id,
      scopes: request.scopes,
      redirectUri: request.redirectUri,
      expiresAt: state.now() + CODE_SECONDS * 1000,
    });
    redirectBack(res, request, { code, scope: request.scopes.join(' ') });
  }

  function consentPage(res: Response, request: AuthorizeRequest, status = 200, error?: string) {
    const users = [...state.users.values()];
    res
      .status(status)
      .set({
        'Content-Security-Policy': "default-src 'none'; frame-ancestors 'none'",
        'X-Frame-Options': 'DENY',
        'Cache-Control': 'no-store',
      })
      .type('html')
      .send(authorizePage({ params: request.params, users, scopes: request.scopes, error }));
  }

  router.get('/authorize', (req, res) => {
    const request = authorizeRequest(state, req, res);
    if (!request) return;
    // Simulator-only extension, not Twitch: `sim_login=<login>` approves at once as that user
    // (created if missing), so headless tests and the dev stack can log in without clicking.
    const simLogin = req.query.sim_login;
    if (simLogin !== undefined) {
      if (typeof simLogin !== 'string' || !LOGIN.test(simLogin)) {
        return oauthError(res, 400, 'sim_login must be 4-25 letters, digits or _');
      }
      return approve(res, request, simLogin);
    }
    consentPage(res, request);
  });

  router.post('/authorize', form, (req, res) => {
    const request = authorizeRequest(state, req, res);
    if (!request) return;
    if (param(req, 'decision') !== 'approve') {
      return redirectBack(res, request, {
        error: 'access_denied',
        error_description: 'The user denied you access',
      });
    }
    const login = param(req, 'new_login') || param(req, 'login') || '';
    if (!LOGIN.test(login)) {
      const error = `"${login}" is not a valid login: use 4-25 letters, digits or _`;
      return consentPage(res, request, 400, error);
    }
    approve(res, request, login);
  });

  router.post('/token', form, (req, res) => {
    const client = state.clients.get(param(req, 'client_id') ?? '');
    if (!client) return oauthError(res, 400, 'invalid client');
    if (param(req, 'client_secret') !== client.clientSecret) {
      return oauthError(res, 403, 'invalid client secret');
    }
    switch (param(req, 'grant_type')) {
      case 'authorization_code': {
        const presented = param(req, 'code') ?? '';
        const code = state.codes.get(presented);
        // Single use: a code is spent by any attempt to redeem it, right or wrong.
        state.codes.delete(presented);
        if (
          !code ||
          code.clientId !== client.clientId ||
          code.expiresAt <= state.now() ||
          code.redirectUri !== param(req, 'redirect_uri')
        ) {
          return oauthError(res, 400, 'Invalid authorization code');
        }
        return sendToken(res, state.issueUserToken(client.clientId, code.userId, code.scopes));
      }
      case 'refresh_token': {
        const old = state.refreshTokens.get(param(req, 'refresh_token') ?? '');
        if (!old?.userId || old.clientId !== client.clientId) {
          return oauthError(res, 400, 'Invalid refresh token');
        }
        // Refresh tokens rotate: the old access and refresh tokens both stop working.
        state.revokeToken(old.accessToken);
        state.refreshTokens.delete(old.refreshToken ?? '');
        return sendToken(res, state.issueUserToken(client.clientId, old.userId, old.scopes));
      }
      case 'client_credentials':
        return sendToken(res, state.issueAppToken(client.clientId));
      default:
        return oauthError(res, 400, 'unsupported grant type');
    }
  });

  router.get('/validate', (req, res) => {
    const token = state.tokenFromHeader(req.headers.authorization);
    if (!token) return oauthError(res, 401, 'invalid access token');
    const user = token.userId ? state.users.get(token.userId) : undefined;
    // App tokens carry no user: Twitch leaves login and user_id out rather than nulling them.
    const who = token.kind === 'user' ? { login: user?.login ?? '' } : {};
    res.json({
      client_id: token.clientId,
      ...who,
      scopes: token.scopes,
      ...(token.kind === 'user' ? { user_id: token.userId } : {}),
      expires_in: Math.max(0, Math.floor((token.expiresAt - state.now()) / 1000)),
    });
  });

  router.post('/revoke', form, (req, res) => {
    const clientId = param(req, 'client_id') ?? '';
    if (!state.clients.has(clientId)) return oauthError(res, 400, 'invalid client');
    const accessToken = param(req, 'token') ?? '';
    // A client may revoke only the tokens issued to it.
    if (state.tokens.get(accessToken)?.clientId !== clientId) {
      return oauthError(res, 400, 'Invalid token');
    }
    state.revokeToken(accessToken);
    res.status(200).end();
  });
  return router;
}

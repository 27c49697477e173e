import { SignJWT, jwtVerify, errors } from 'jose';

const AUDIENCE = 'streamfeed:realtime';
const ISSUER = 'streamfeed:web';
/** Long enough to connect after fetching it, short enough that a leaked token soon dies. */
export const REALTIME_TOKEN_TTL_SECONDS = 300;

export interface RealtimeTokens {
  issue(userId: string, ttlSeconds?: number): Promise<string>;
  /** The user id of a valid token; throws an Error whose message says why it is refused. */
  verify(token: unknown): Promise<string>;
}

/** Handshake tokens for Socket.IO, issued by `web` and checked by `realtime` (HS256 JWT). */
export function createRealtimeTokens(secret: string): RealtimeTokens {
  const key = new TextEncoder().encode(secret);
  return {
    issue(userId, ttlSeconds = REALTIME_TOKEN_TTL_SECONDS) {
      return new SignJWT({})
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject(userId)
        .setAudience(AUDIENCE)
        .setIssuer(ISSUER)
        .setIssuedAt()
        .setExpirationTime(`${ttlSeconds}s`)
        .sign(key);
    },
    async verify(token) {
      if (typeof token !== 'string' || token === '') throw new Error('missing token');
      try {
        const { payload } = await jwtVerify(token, key, {
          audience: AUDIENCE,
          issuer: ISSUER,
          algorithms: ['HS256'],
        });
        if (!payload.sub) throw new Error('token has no user');
        return payload.sub;
      } catch (error) {
        if (error instanceof errors.JWTExpired) throw new Error('token expired', { cause: error });
        throw new Error('invalid token', { cause: error });
      }
    },
  };
}

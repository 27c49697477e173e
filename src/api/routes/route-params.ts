import { z } from 'zod';

// Checked before anything reaches Redis or PostgreSQL: PostgreSQL refuses a NUL in text with an
// error (a 500 and an ERROR line) where a caller's typo deserves a 400.
/** A Twitch user id as a path parameter. */
export const broadcasterIdSchema = z.string().regex(/^[0-9A-Za-z_]{1,64}$/);
/** An event id (`ev_` and a base64url digest; older ids are of the same alphabet). */
export const eventIdSchema = z.string().regex(/^[0-9A-Za-z_-]{1,128}$/);

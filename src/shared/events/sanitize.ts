/**
 * PostgreSQL text and jsonb refuse NUL characters and unpaired surrogates; a single one would
 * make an event impossible to store and its job retry forever. Both become U+FFFD, everywhere
 * the event goes, so the cache, the socket and the database all hold the same text.
 */
export function sanitizeText<T>(value: T): T {
  if (typeof value === 'string') return value.replaceAll('\u0000', '\uFFFD').toWellFormed() as T;
  if (Array.isArray(value)) return value.map(sanitizeText) as T;
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>).map(([k, v]) => [
        sanitizeText(k),
        sanitizeText(v),
      ]),
    ) as T;
  }
  return value;
}

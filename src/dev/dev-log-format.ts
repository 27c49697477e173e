const LEVELS: Record<number, string> = {
  10: 'TRACE ',
  20: 'DEBUG ',
  30: '',
  40: 'WARN ',
  50: 'ERROR ',
  60: 'FATAL ',
};

/** One pino JSON line as a short readable one (level when not info, message, error message). */
export function formatLogLine(line: string): string {
  if (!line.startsWith('{')) return line;
  let entry: { level?: unknown; msg?: unknown; err?: { message?: unknown } };
  try {
    entry = JSON.parse(line) as typeof entry;
  } catch {
    return line;
  }
  if (typeof entry.msg !== 'string') return line;
  const level = typeof entry.level === 'number' ? (LEVELS[entry.level] ?? '') : '';
  const cause = typeof entry.err?.message === 'string' ? ` (${entry.err.message})` : '';
  return `${level}${entry.msg}${cause}`;
}

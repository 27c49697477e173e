// RFC 3339 section 5.6, with its notes: "T" and "Z" in either case, a space for the "T", any
// number of fraction digits. Nothing else: Date.parse also takes RFC 1123 dates, a zone-less
// time in the server's own zone, and "1" for the year 2001.
const DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:[Zz]|([+-])(\d{2}):(\d{2}))$/;

const isLeapYear = (year: number) => year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
const daysInMonth = (year: number, month: number) =>
  month === 2 ? (isLeapYear(year) ? 29 : 28) : [4, 6, 9, 11].includes(month) ? 30 : 31;

/**
 * The instant (epoch milliseconds) of an RFC 3339 date-time, or null when `value` is not one.
 * Every year 0000-9999 is read as written (Date.UTC would take 0-99 for 19xx). Fractions beyond
 * milliseconds are cut; a leap second (:60) is read as the last millisecond of its minute, as
 * JavaScript time has no leap seconds.
 */
export function parseRfc3339(value: unknown): number | null {
  if (typeof value !== 'string') return null;
  const match = DATE_TIME.exec(value);
  if (!match) return null;
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const [, , , , , , , fraction, sign, offsetHour, offsetMinute] = match;
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return null;
  if (hour > 23 || minute > 59 || second > 60) return null;
  if (Number(offsetHour ?? 0) > 23 || Number(offsetMinute ?? 0) > 59) return null;

  const leap = second === 60;
  const millis = leap ? 999 : Number((fraction ?? '').padEnd(3, '0').slice(0, 3));
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, leap ? 59 : second, millis);
  const offsetMs = (Number(offsetHour ?? 0) * 60 + Number(offsetMinute ?? 0)) * 60_000;
  return date.getTime() - (sign === '-' ? -offsetMs : offsetMs);
}

/** An RFC 3339 date-time as ISO 8601 in UTC with milliseconds, or null when it is not one. */
export function rfc3339ToIso(value: unknown): string | null {
  const ms = parseRfc3339(value);
  return ms === null ? null : new Date(ms).toISOString();
}

/** How much time one partition of `events` holds (EVENT_PARTITION_INTERVAL). */
export const PARTITION_INTERVALS = ['month', 'week', 'day'] as const;
export type PartitionInterval = (typeof PARTITION_INTERVALS)[number];

/**
 * Partitions made ahead of the current one when no count is given (EVENT_PARTITIONS_AHEAD):
 * enough for the daily maintenance job to fail for days unnoticed, few enough that every read
 * of a feed (which no time bound prunes) does not visit a crowd of empty partitions.
 */
export const DEFAULT_AHEAD: Record<PartitionInterval, number> = { month: 3, week: 4, day: 7 };

const DAY_MS = 86_400_000;

/** A UTC date at midnight; not Date.UTC, which takes years 0-99 for 1900-1999. */
function utcDate(year: number, monthIndex: number, day: number): Date {
  const date = new Date(0);
  date.setUTCFullYear(year, monthIndex, day);
  return date;
}

/** The first instant of the UTC month, ISO week (Monday) or day that holds `date`. */
export function unitStart(date: Date, interval: PartitionInterval): Date {
  const day = utcDate(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate());
  if (interval === 'day') return day;
  if (interval === 'month') return utcDate(date.getUTCFullYear(), date.getUTCMonth(), 1);
  return new Date(day.getTime() - ((day.getUTCDay() + 6) % 7) * DAY_MS);
}

/** The start of the unit holding `date`, moved by `count` units (negative for earlier). */
export function addUnits(date: Date, interval: PartitionInterval, count: number): Date {
  const start = unitStart(date, interval);
  if (interval === 'month') {
    return utcDate(start.getUTCFullYear(), start.getUTCMonth() + count, 1);
  }
  // Whole days in UTC have no daylight-saving steps, so days add as milliseconds.
  return new Date(start.getTime() + count * (interval === 'week' ? 7 : 1) * DAY_MS);
}

const SUFFIX: Record<PartitionInterval, string> = { month: 'm', week: 'w', day: 'd' };
const NAME_PATTERN = /^events_y(\d{4})m(\d{2})(?:d(\d{2})_([mwd]))?$/;

/**
 * The name of a partition of `interval` that starts at `from`: `events_yYYYYmMM` for a whole
 * month (the name of every version before intervals), else `events_yYYYYmMMdDD_` and `m`, `w`
 * or `d`. A month partition starts mid-month only where it follows one of another interval.
 */
export function partitionNameFor(from: Date, interval: PartitionInterval): string {
  const month = `events_y${from.getUTCFullYear()}m${String(from.getUTCMonth() + 1).padStart(2, '0')}`;
  if (interval === 'month' && from.getUTCDate() === 1) return month;
  return `${month}d${String(from.getUTCDate()).padStart(2, '0')}_${SUFFIX[interval]}`;
}

/** What one of our partition names says: its interval and where it starts; null if not ours. */
export function parsePartitionName(
  name: string,
): { interval: PartitionInterval; from: Date } | null {
  const match = NAME_PATTERN.exec(name);
  if (!match) return null;
  const month = Number(match[2]);
  const day = match[3] === undefined ? 1 : Number(match[3]);
  if (month < 1 || month > 12 || day < 1 || day > 31) return null;
  const interval =
    match[4] === undefined
      ? 'month'
      : (Object.keys(SUFFIX) as PartitionInterval[]).find((i) => SUFFIX[i] === match[4])!;
  const from = utcDate(Number(match[1]), month - 1, day);
  if (from.getUTCMonth() !== month - 1) return null; // 31 February
  return { interval, from };
}

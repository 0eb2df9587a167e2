/** A wall-clock date and time, without a zone. */
export interface WallTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

/** Why a wall-clock time has no single instant in a zone. */
export type WallTimeProblem = 'invalid-zone' | 'invalid-time' | 'skipped';

const LOCAL = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2}))?)?$/;

/** Reads `YYYY-MM-DD` (midnight, the start of that day) or `YYYY-MM-DDTHH:mm[:ss]`, with no zone or offset. */
export function parseWallTime(text: string): WallTime | undefined {
  const m = LOCAL.exec(text);
  if (!m) return undefined;
  const t: WallTime = {
    year: Number(m[1]),
    month: Number(m[2]),
    day: Number(m[3]),
    hour: Number(m[4] ?? 0),
    minute: Number(m[5] ?? 0),
    second: Number(m[6] ?? 0),
  };
  const probe = new Date(Date.UTC(t.year, t.month - 1, t.day, t.hour, t.minute, t.second));
  const same =
    probe.getUTCFullYear() === t.year &&
    probe.getUTCMonth() === t.month - 1 &&
    probe.getUTCDate() === t.day &&
    probe.getUTCHours() === t.hour &&
    probe.getUTCMinutes() === t.minute &&
    probe.getUTCSeconds() === t.second;
  return same ? t : undefined;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat | undefined {
  let f = formatters.get(timeZone);
  if (!f) {
    try {
      f = new Intl.DateTimeFormat('en-US', {
        timeZone,
        hourCycle: 'h23',
        year: 'numeric',
        month: '2-digit',
        day: '2-digit',
        hour: '2-digit',
        minute: '2-digit',
        second: '2-digit',
      });
    } catch {
      return undefined;
    }
    formatters.set(timeZone, f);
  }
  return f;
}

/** The wall-clock time at instant `ms` in `timeZone`, as milliseconds of the same fields read as UTC. */
function wallAt(f: Intl.DateTimeFormat, ms: number): number {
  const parts: Record<string, number> = {};
  for (const p of f.formatToParts(new Date(ms))) if (p.type !== 'literal') parts[p.type] = Number(p.value);
  return Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour!, parts.minute!, parts.second!);
}

/**
 * The instant at which clocks in `timeZone` (IANA name) show `wall`. Where clocks are set back and the
 * time occurs twice, the earlier instant; where clocks jump forward over it, `skipped`, or with
 * `skipped: 'end'` the time read with the offset from before the jump (where the skipped span starts at
 * `wall`, as when midnight is skipped, that is the jump itself: the start of that day).
 */
export function instantOf(
  wall: WallTime,
  timeZone: string,
  options: { skipped?: 'refuse' | 'end' } = {},
): Date | WallTimeProblem {
  const f = formatter(timeZone);
  if (!f) return 'invalid-zone';
  const target = Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute, wall.second);
  if (!Number.isFinite(target)) return 'invalid-time';
  // The zone's offsets a day either side cover any change of offset near the target.
  const offsets = new Set([-86_400_000, 0, 86_400_000].map((d) => wallAt(f, target + d) - (target + d)));
  const candidates = [...offsets]
    .map((off) => target - off)
    .filter((ms) => wallAt(f, ms) === target)
    .sort((a, b) => a - b);
  if (candidates.length) return new Date(candidates[0]!);
  // Read with the offset before the jump, the time falls after it: the jump itself is at that instant
  // when the skipped span starts at `wall` (a day that starts at 01:00).
  return options.skipped === 'end' ? new Date(target - Math.min(...offsets)) : 'skipped';
}

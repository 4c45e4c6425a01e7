const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/**
 * Parses a duration such as `900`, `15m`, `12h` or `7d` into whole seconds.
 * Returns `undefined` for anything else, so callers can report the bad value by name.
 */
export function parseDurationSeconds(value: string | number): number | undefined {
  if (typeof value === 'number')
    return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
  const match = /^\s*(\d{1,9})\s*([smhd]?)\s*$/.exec(value);
  if (!match) return undefined;
  return Number(match[1]) * (UNIT_SECONDS[match[2] || 's'] ?? 1);
}

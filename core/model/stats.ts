/** Median of numbers (mean of the two middle values for an even count); 0 for none. Pure. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return 0;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Percent change from `from` to `to` (Infinity from 0 to something, 0 from 0 to 0). Pure. */
export function pctChange(from: number, to: number): number {
  return from > 0 ? ((to - from) / from) * 100 : to > 0 ? Infinity : 0;
}

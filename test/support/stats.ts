/** The `p`-quantile (0 ≤ p ≤ 1) of `xs`, nearest rank below (NaN for none). */
export function percentile(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * p))] ?? Number.NaN;
}

/** The median of `xs` (NaN for none). */
export const median = (xs: readonly number[]) => percentile(xs, 0.5);

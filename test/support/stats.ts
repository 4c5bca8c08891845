/** The `p`-quantile (0 ≤ p ≤ 1) of `xs`, nearest rank below (NaN for none). */
export function percentile(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * p))] ?? Number.NaN;
}

/** The median of `xs` (NaN for none). */
export const median = (xs: readonly number[]) => percentile(xs, 0.5);

/**
 * The Theil–Sen slope of ys over xs: the median of the slopes between every pair of points, which a
 * few outliers (a stall of the machine) do not move as they move a least-squares fit.
 */
export function theilSen(xs: readonly number[], ys: readonly number[]): number {
  const slopes: number[] = [];
  for (let i = 0; i < xs.length; i++) {
    for (let j = i + 1; j < xs.length; j++) {
      const dx = (xs[j] as number) - (xs[i] as number);
      if (dx !== 0) slopes.push(((ys[j] as number) - (ys[i] as number)) / dx);
    }
  }
  return median(slopes);
}

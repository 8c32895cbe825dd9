// Median time past (BIP113, and the lower bound on a block's time): the median of the times of
// the last 11 blocks ending at a given block. Near genesis fewer blocks exist and the median of
// those is used, as Core's GetMedianTimePast does (the upper middle element for an even count).

export const MEDIAN_TIME_SPAN = 11;

/** times: the block times ending at the block in question, oldest first or in any order. */
export function medianTimePast(times: readonly number[]): number {
  if (times.length === 0) throw new RangeError('median time past of no blocks');
  const last = times.slice(-MEDIAN_TIME_SPAN).sort((a, b) => a - b);
  return last[Math.floor(last.length / 2)];
}

// Hash rates for people: "8.74 MH/s" instead of 8735006. Logs and the command line print this;
// RPC fields and /metrics keep the raw hashes per second that programs read.

const UNITS = ['H/s', 'kH/s', 'MH/s', 'GH/s', 'TH/s', 'PH/s', 'EH/s'] as const;

/** Hashes per second in the largest unit that keeps the figure at or above 1, two decimals. */
export function formatHashRate(hashesPerSecond: number): string {
  if (!Number.isFinite(hashesPerSecond) || hashesPerSecond < 0) return '? H/s';
  let v = hashesPerSecond;
  let i = 0;
  // Rounding first so 999,999 H/s reads "1.00 MH/s", not "1000.00 kH/s".
  while (i < UNITS.length - 1 && Number(v.toFixed(2)) >= 1000) {
    v /= 1000;
    i++;
  }
  return `${v.toFixed(2)} ${UNITS[i]}`;
}

// Amounts: base units per coin and the largest amount any single value or sum may take.
// Core's MoneyRange guards every output and every running total so that a sum of outputs can
// never wrap or exceed the supply, even though bigint itself cannot overflow.

export const COIN = 100_000_000n;
export const MAX_MONEY = 21_000_000n * COIN;

export function moneyRange(v: bigint): boolean {
  return v >= 0n && v <= MAX_MONEY;
}

/** An amount as coins with exactly 8 decimals ("2.27000000"), as Core's FormatMoney. */
export function formatCoins(sats: bigint): string {
  const neg = sats < 0n;
  const abs = neg ? -sats : sats;
  const frac = (abs % COIN).toString().padStart(8, '0');
  return `${neg ? '-' : ''}${abs / COIN}.${frac}`;
}

// Coin amounts at the RPC boundary. Core prints amounts as JSON numbers with exactly 8 decimals
// and accepts numbers or strings; doubles would round, so parsing works on the decimal text and
// printing writes the digits itself.
import { RpcCode, RpcError } from './errors.js';

export const COIN = 100_000_000n;
export const MAX_MONEY = 21_000_000n * COIN;

/** An amount that serialises as a bare JSON number with 8 decimals (see stringifyJson). */
export class JsonAmount {
  constructor(readonly sats: bigint) {}
}

export { formatCoins } from '../consensus/amount.js';

/** Core's ParseFixedPoint bound: a parsed mantissa must stay under 10^18. */
const FIXED_POINT_LIMIT = 10n ** 18n;

/**
 * Core's AmountFromValue(value, decimals): a JSON number (via its shortest decimal form) or a
 * numeric string with at most `decimals` places, in units of 10^-decimals; -3 "Amount is not a
 * number or string", "Invalid amount" (unparsable, too many places, 10^18 or more) or "Amount out
 * of range" (negative or over MAX_MONEY).
 */
export function parseFixedAmount(value: unknown, decimals: number): bigint {
  let text: string;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new RpcError(RpcCode.TYPE_ERROR, 'Invalid amount');
    text = String(value);
  } else if (typeof value === 'string') text = value.trim();
  else throw new RpcError(RpcCode.TYPE_ERROR, 'Amount is not a number or string');
  const m = /^(-?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d{1,3}))?$/.exec(text);
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) throw new RpcError(RpcCode.TYPE_ERROR, 'Invalid amount');
  const digits = m[2] + (m[3] ?? '');
  // Position of the decimal point counted from the left of `digits`, shifted by the exponent.
  const point = m[2].length + Number(m[4] ?? '0');
  const shift = point + decimals - digits.length;
  let units: bigint;
  if (shift >= 0) {
    if (shift > 30) throw new RpcError(RpcCode.TYPE_ERROR, 'Invalid amount');
    units = BigInt(digits === '' ? '0' : digits) * 10n ** BigInt(shift);
  } else {
    const kept = digits.slice(0, digits.length + shift);
    if (/[^0]/.test(digits.slice(digits.length + shift)))
      throw new RpcError(RpcCode.TYPE_ERROR, 'Invalid amount');
    units = BigInt(kept === '' ? '0' : kept);
  }
  if (units >= FIXED_POINT_LIMIT) throw new RpcError(RpcCode.TYPE_ERROR, 'Invalid amount');
  if (m[1] === '-') units = -units;
  if (units < 0n || units > MAX_MONEY) throw new RpcError(RpcCode.TYPE_ERROR, 'Amount out of range');
  return units;
}

/** Parses "1.5", "1e-8", 0.1 (a JS number via its shortest decimal form) into base units. */
export function parseCoins(value: unknown): bigint {
  return parseFixedAmount(value, 8);
}

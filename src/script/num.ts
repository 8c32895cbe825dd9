// Script numbers (Core's CScriptNum): little-endian sign-magnitude, at most 4 bytes as operands
// (5 for the lock-time opcodes). Results of arithmetic may need 5 bytes, so values are JS numbers:
// every value reachable from 5-byte operands fits well within 2^53.
import { ScriptError } from './errors.js';

/** Decodes an operand; throws ScriptError SCRIPTNUM on overflow or (with `minimal`) padding. */
export function decodeNum(b: Uint8Array, minimal: boolean, maxSize = 4): number {
  const n = b.length;
  if (n > maxSize) throw new ScriptError('SCRIPTNUM', 'script number overflow');
  if (n === 0) return 0;
  const last = b[n - 1];
  if (minimal && (last & 0x7f) === 0 && (n <= 1 || (b[n - 2] & 0x80) === 0)) {
    throw new ScriptError('SCRIPTNUM', 'non-minimally encoded script number');
  }
  let v = 0;
  let mul = 1;
  for (let i = 0; i < n - 1; i++) {
    v += b[i] * mul;
    mul *= 256;
  }
  v += (last & 0x7f) * mul;
  // 0 - v, not -v: a lone sign bit (0x80, negative zero) must decode to 0, not JS -0.
  return last & 0x80 ? 0 - v : v;
}

const SMALL: Uint8Array[] = [];
for (let i = 0; i <= 16; i++) SMALL.push(i === 0 ? new Uint8Array(0) : Uint8Array.of(i));
const MINUS_ONE = Uint8Array.of(0x81);

/** Minimal encoding. Small results are shared constants: stack items are never mutated. */
export function encodeNum(v: number): Uint8Array {
  if (v >= 0 && v <= 16) return SMALL[v];
  if (v === -1) return MINUS_ONE;
  const neg = v < 0;
  let abs = neg ? -v : v;
  const out: number[] = [];
  while (abs > 0) {
    out.push(abs % 256);
    abs = Math.floor(abs / 256);
  }
  if (out[out.length - 1] & 0x80) out.push(neg ? 0x80 : 0);
  else if (neg) out[out.length - 1] |= 0x80;
  return Uint8Array.from(out);
}

/** Core's CastToBool: any non-zero byte, except a lone sign bit in the last byte (negative zero). */
export function castToBool(b: Uint8Array): boolean {
  for (let i = 0; i < b.length; i++) {
    if (b[i] !== 0) return !(i === b.length - 1 && b[i] === 0x80);
  }
  return false;
}

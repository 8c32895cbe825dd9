// BIP34: a coinbase's scriptSig starts with its block's height, as Bitcoin Core's
// `CScript() << nHeight` writes it: OP_0 for 0, OP_1..OP_16 for 1..16, otherwise a push of the
// minimal little-endian script number (sign bit padded). The check compares that prefix byte for
// byte, so a non-minimal encoding of the right height is still bad-cb-height.
import type { Tx } from '../primitives/tx.js';
import { equalBytes } from '../primitives/bytes.js';
import { Reason, consensusError } from './errors.js';

/** CScriptNum serialisation of a positive number: minimal little-endian, sign bit kept clear. */
function scriptNum(n: number): Uint8Array {
  const out: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) out.push(v & 0xff);
  if ((out[out.length - 1] & 0x80) !== 0) out.push(0);
  return Uint8Array.from(out);
}

/** The script prefix a coinbase at `height` must start with (miners and builders use it). */
export function coinbaseHeightScript(height: number): Uint8Array {
  if (!Number.isSafeInteger(height) || height < 0 || height > 0xffffffff) {
    throw new RangeError(`coinbase height out of range: ${height}`);
  }
  if (height === 0) return Uint8Array.of(0x00);
  if (height <= 16) return Uint8Array.of(0x50 + height);
  const num = scriptNum(height);
  // At most 5 bytes, so a direct push opcode (length byte) is the minimal push.
  return Uint8Array.of(num.length, ...num);
}

/** Throws bad-cb-height unless the coinbase's scriptSig starts with coinbaseHeightScript(height). */
export function checkCoinbaseHeight(coinbase: Tx, height: number): void {
  const expect = coinbaseHeightScript(height);
  const sig = coinbase.inputs[0]?.scriptSig ?? new Uint8Array(0);
  if (sig.length < expect.length || !equalBytes(sig.subarray(0, expect.length), expect)) {
    throw consensusError(Reason.CB_HEIGHT, `block height mismatch in coinbase (height ${height})`);
  }
}

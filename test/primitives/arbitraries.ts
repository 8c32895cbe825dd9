// fast-check generators for the primitives and the decoder properties every decoder must have:
// round trip, a typed error on every truncation, and on random or corrupted bytes either a
// typed error or a value that re-encodes to exactly the input (the encodings are canonical).
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { BlockHeader, Block } from '../../src/primitives/block.js';
import { DecodeError, equalBytes } from '../../src/primitives/bytes.js';
import { OutPoint, Tx, TxIn, TxOut } from '../../src/primitives/tx.js';

export const RUNS = 200;

export const u32 = fc.integer({ min: 0, max: 0xffffffff });
export const hash32 = fc.uint8Array({ minLength: 32, maxLength: 32 });
// Mostly short scripts, sometimes past 252 bytes so the 0xfd CompactSize form is exercised.
export const script = fc.oneof(
  { weight: 4, arbitrary: fc.uint8Array({ maxLength: 40 }) },
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 250, maxLength: 300 }) },
);

export const txIn = fc
  .tuple(hash32, u32, script, u32)
  .map(([h, i, s, seq]) => new TxIn(new OutPoint(h, i), s, seq));
export const txOut = fc
  .tuple(fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n }), script)
  .map(([v, s]) => new TxOut(v, s));
export const tx = fc
  .tuple(u32, fc.array(txIn, { maxLength: 3 }), fc.array(txOut, { maxLength: 3 }), u32)
  .map(([v, ins, outs, lt]) => new Tx(v, ins, outs, lt));

export const header = fc
  .tuple(fc.integer({ min: -0x80000000, max: 0x7fffffff }), hash32, hash32, u32, u32, u32)
  .map(([v, p, m, t, b, n]) => new BlockHeader(v, p, m, t, b, n));
export const block = fc
  .tuple(header, fc.array(tx, { minLength: 1, maxLength: 3 }))
  .map(([h, txs]) => new Block(h, txs));

/** Calls `decode`; it must either throw `errorType` or return something that re-encodes to `data`. */
export function decodesCanonicallyOrThrows<T>(
  data: Uint8Array,
  decode: (d: Uint8Array) => T,
  encode: (v: T) => Uint8Array,
  errorType: new (...a: never[]) => Error = DecodeError,
): void {
  let value: T;
  try {
    value = decode(data);
  } catch (e) {
    assert.ok(e instanceof errorType, `expected ${errorType.name}, got ${String(e)}`);
    return;
  }
  assert.ok(equalBytes(encode(value), data), 'decoded a value that does not re-encode to its input');
}

/** Every strict prefix of a valid encoding must fail with `errorType`. */
export function everyTruncationThrows(
  data: Uint8Array,
  decode: (d: Uint8Array) => unknown,
  errorType: new (...a: never[]) => Error = DecodeError,
): void {
  for (let k = 0; k < data.length; k++) {
    assert.throws(() => decode(data.subarray(0, k)), errorType, `prefix of ${k} of ${data.length} bytes`);
  }
}

/** Flips one bit chosen by `bit` (any natural number). */
export function flipBit(data: Uint8Array, bit: number): Uint8Array {
  const out = data.slice();
  if (out.length === 0) return out;
  const i = bit % (out.length * 8);
  out[i >> 3] ^= 1 << (i & 7);
  return out;
}

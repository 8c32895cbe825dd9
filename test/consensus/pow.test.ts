// Compact bits, chain work and the proof-of-work check, against Bitcoin Core's arith_uint256
// behaviour (SetCompact/GetCompact with their sign and overflow flags) and bitcoinjs-lib's vectors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  blockWork,
  checkProofOfWork,
  compactToTarget,
  hashToBigInt,
  targetToCompact,
} from '../../src/consensus/pow.js';
import { getParams } from '../../src/consensus/params.js';
import { readVectorJson } from '../vectors.js';

test('bitcoinjs-lib block.json targets: compact -> 256-bit target', () => {
  const { targets } = readVectorJson<{ targets: { bits: string; expected: string }[] }>(
    'bitcoinjs-lib',
    'block.json',
  );
  assert.equal(targets.length, 6);
  for (const { bits, expected } of targets) {
    assert.equal(compactToTarget(parseInt(bits, 16)).target, BigInt('0x' + expected), bits);
  }
});

// [bits, target, negative, overflow, GetCompact(target, negative)] in the manner of Core's
// arith_uint256 tests: zero mantissas, short sizes that shift the mantissa out, the sign bit.
const CASES: [number, bigint, boolean, boolean, number][] = [
  [0x00000000, 0n, false, false, 0],
  [0x00123456, 0n, false, false, 0],
  [0x01003456, 0n, false, false, 0],
  [0x02000056, 0n, false, false, 0],
  [0x03000000, 0n, false, false, 0],
  [0x04000000, 0n, false, false, 0],
  [0x00923456, 0n, false, false, 0],
  [0x01803456, 0n, false, false, 0],
  [0x02800056, 0n, false, false, 0],
  [0x03800000, 0n, false, false, 0],
  [0x04800000, 0n, false, false, 0],
  [0x01123456, 0x12n, false, false, 0x01120000],
  [0x01fedcba, 0x7en, true, false, 0x01fe0000],
  [0x02123456, 0x1234n, false, false, 0x02123400],
  [0x03123456, 0x123456n, false, false, 0x03123456],
  [0x04123456, 0x12345600n, false, false, 0x04123456],
  [0x04923456, 0x12345600n, true, false, 0x04923456],
  [0x05009234, 0x92340000n, false, false, 0x05009234],
  [0x20123456, 0x123456n << 232n, false, false, 0x20123456],
  [0x1d00ffff, 0xffffn << 208n, false, false, 0x1d00ffff],
];

test('compactToTarget and targetToCompact match Core on edge cases', () => {
  for (const [bits, target, negative, overflow, back] of CASES) {
    const got = compactToTarget(bits);
    assert.deepEqual(got, { target, negative, overflow }, bits.toString(16));
    assert.equal(targetToCompact(got.target, got.negative), back, bits.toString(16));
  }
});

test('compactToTarget flags overflow as Core does', () => {
  assert.equal(compactToTarget(0xff123456).overflow, true);
  assert.equal(compactToTarget(0x23000001).overflow, true); // size 35
  assert.equal(compactToTarget(0x22000001).overflow, false); // size 34, one-byte mantissa fits
  assert.equal(compactToTarget(0x22000100).overflow, true); // size 34, two bytes do not
  assert.equal(compactToTarget(0x21000100).overflow, false);
  assert.equal(compactToTarget(0x21010000).overflow, true); // size 33, three bytes do not
  assert.equal(compactToTarget(0x20ffffff).overflow, false);
  assert.equal(compactToTarget(0x23000000).overflow, false); // a zero mantissa never overflows
});

test('targetToCompact moves a mantissa with the sign bit up one byte, and rejects non-uint256', () => {
  assert.equal(targetToCompact(0x80n), 0x02008000);
  assert.equal(targetToCompact(0x800000n), 0x04008000);
  assert.equal(targetToCompact((1n << 256n) - 1n), 0x2100ffff);
  assert.throws(() => targetToCompact(-1n), RangeError);
  assert.throws(() => targetToCompact(1n << 256n), RangeError);
});

test('property: compact encoding rounds down by less than one part in 2^15 and is stable', () => {
  fc.assert(
    fc.property(fc.bigInt({ min: 1n, max: (1n << 256n) - 1n }), (t) => {
      const c = targetToCompact(t);
      const back = compactToTarget(c);
      assert.equal(back.negative, false);
      assert.equal(back.overflow, false);
      assert.ok(back.target <= t);
      assert.ok((t - back.target) * (1n << 15n) <= t);
      assert.equal(targetToCompact(back.target), c);
    }),
    { numRuns: 2000 },
  );
});

test('property: any 32-bit bits decodes without throwing, and a clean one round-trips', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 0xffffffff }), (bits) => {
      const { target, negative, overflow } = compactToTarget(bits);
      assert.ok(target >= 0n && target < 1n << 256n);
      if (!negative && !overflow && target > 0n)
        assert.equal(compactToTarget(targetToCompact(target)).target, target);
    }),
    { numRuns: 5000 },
  );
});

test('blockWork is 2^256 / (target + 1), and 0 for invalid bits', () => {
  assert.equal(blockWork(0x1d00ffff), 0x100010001n);
  assert.equal(blockWork(0x207fffff), 2n);
  assert.equal(blockWork(0), 0n);
  assert.equal(blockWork(0x04923456), 0n);
  assert.equal(blockWork(0xff123456), 0n);
  // It keeps its last answer: the same bits twice, then others, answer as fresh.
  for (const bits of [0x1d00ffff, 0x1d00ffff, 0, 0, 0x207fffff, 0x1d00ffff])
    assert.equal(blockWork(bits), bits === 0 ? 0n : (1n << 256n) / (compactToTarget(bits).target + 1n));
});

test('property: hashToBigInt reads any 32 bytes (a view into a larger buffer too) as a little-endian number', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 40, maxLength: 40 }), fc.nat(8), (bytes, at) => {
      const hash = bytes.subarray(at, at + 32);
      let n = 0n;
      for (let i = 31; i >= 0; i--) n = (n << 8n) | BigInt(hash[i]);
      assert.equal(hashToBigInt(hash), n);
    }),
    { numRuns: 2000 },
  );
});

test('checkProofOfWork rejects negative, zero, overflowing and above-limit targets', () => {
  const btc = getParams('bitcoin');
  const zeroHash = new Uint8Array(32);
  assert.equal(checkProofOfWork(zeroHash, 0x1d00ffff, btc), true);
  assert.equal(checkProofOfWork(zeroHash, 0x1d80ffff, btc), false); // negative
  assert.equal(checkProofOfWork(zeroHash, 0x1d000000, btc), false); // zero
  assert.equal(checkProofOfWork(zeroHash, 0xff123456, btc), false); // overflow
  assert.equal(checkProofOfWork(zeroHash, 0x1d01ffff, btc), false); // above powLimit
  assert.equal(checkProofOfWork(zeroHash, 0x207fffff, getParams('regtest')), true);
  // The hash is compared as a little-endian number: equal to the target passes, one more fails.
  const target = compactToTarget(0x1d00ffff).target;
  const asHash = (n: bigint) =>
    Uint8Array.from({ length: 32 }, (_, i) => Number((n >> BigInt(8 * i)) & 0xffn));
  assert.equal(hashToBigInt(asHash(target)), target);
  assert.equal(checkProofOfWork(asHash(target), 0x1d00ffff, btc), true);
  assert.equal(checkProofOfWork(asHash(target + 1n), 0x1d00ffff, btc), false);
  assert.equal(checkProofOfWork(btc.genesisHash, 0x1d00ffff, btc), true);
  assert.equal(checkProofOfWork(btc.genesisHash, 0x1b00ffff, btc), false);
});

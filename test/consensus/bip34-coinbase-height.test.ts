// BIP34: the coinbase scriptSig starts with `CScript() << height`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { checkCoinbaseHeight, coinbaseHeightScript } from '../../src/consensus/coinbase.js';
import { bytesToHex, concatBytes } from '../../src/primitives/bytes.js';
import { assertReject, coinbase } from './fixtures.js';

test('height encodings match CScript() << n', () => {
  const cases: [number, string][] = [
    [0, '00'],
    [1, '51'],
    [16, '60'],
    [17, '0111'],
    [127, '017f'],
    [128, '028000'],
    [255, '02ff00'],
    [256, '020001'],
    [32767, '02ff7f'],
    [32768, '03008000'],
    [227_931, '035b7a03'], // Bitcoin's BIP34 activation block
    [8_388_608, '0400008000'],
    [0x7fffffff, '04ffffff7f'],
    [0x80000000, '050000008000'],
  ];
  for (const [h, hex] of cases) assert.equal(bytesToHex(coinbaseHeightScript(h)), hex, `height ${h}`);
  assert.throws(() => coinbaseHeightScript(-1), RangeError);
  assert.throws(() => coinbaseHeightScript(1.5), RangeError);
});

test('a coinbase with the right prefix and any tail passes', () => {
  for (const h of [0, 1, 16, 17, 500, 227_931]) {
    checkCoinbaseHeight(coinbase(concatBytes(coinbaseHeightScript(h), Uint8Array.of(0xaa, 0xbb))), h);
  }
  checkCoinbaseHeight(coinbase(coinbaseHeightScript(300)), 300);
});

test('bad-cb-height: wrong height, non-minimal push, truncated', () => {
  const tail = Uint8Array.of(0xaa, 0xbb);
  assertReject(
    () => checkCoinbaseHeight(coinbase(concatBytes(coinbaseHeightScript(501), tail)), 500),
    'bad-cb-height',
  );
  // 5 pushed as a one-byte data push instead of OP_5.
  assertReject(() => checkCoinbaseHeight(coinbase(Uint8Array.of(0x01, 0x05, 0xaa)), 5), 'bad-cb-height');
  // 500 padded with a zero byte.
  assertReject(
    () => checkCoinbaseHeight(coinbase(Uint8Array.of(0x03, 0xf4, 0x01, 0x00)), 500),
    'bad-cb-height',
  );
  assertReject(() => checkCoinbaseHeight(coinbase(Uint8Array.of(0x02, 0xf4)), 500), 'bad-cb-height');
});

/** Reads back the number a height script pushes (OP_0, OP_1..16 or a minimal data push). */
function readPushedNumber(script: Uint8Array): number {
  const op = script[0];
  if (op === 0) return 0;
  if (op >= 0x51 && op <= 0x60) return op - 0x50;
  assert.equal(script.length, op + 1);
  const data = script.subarray(1);
  assert.notEqual(data[data.length - 1] & 0x80, 0x80, 'sign bit clear');
  // Minimal: the top byte is non-zero unless it only carries the sign bit for the byte below.
  if (data.length > 1 && data[data.length - 1] === 0) assert.equal(data[data.length - 2] & 0x80, 0x80);
  return data.reduceRight((n, b) => n * 256 + b, 0);
}

test('property: every height encodes minimally and reads back', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 0xffffffff }), (h) => {
      const s = coinbaseHeightScript(h);
      assert.equal(readPushedNumber(s), h);
      checkCoinbaseHeight(coinbase(concatBytes(s, Uint8Array.of(0, 0))), h);
    }),
    { numRuns: 2000 },
  );
});

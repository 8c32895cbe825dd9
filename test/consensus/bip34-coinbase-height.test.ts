// BIP34: the coinbase scriptSig starts with `CScript() << height`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
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

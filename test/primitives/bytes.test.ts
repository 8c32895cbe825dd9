// Hex of any byte view; CompactSize varints: canonical round trip over every size class, non-canonical forms and sizes
// past the caller's limit rejected, every truncation a DecodeError.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  BufferReader,
  BufferWriter,
  DecodeError,
  bytesToHex,
  compactSizeLength,
  hashFromHex,
  hexToBytes,
  reverseHex,
} from '../../src/primitives/bytes.js';
import { RUNS, decodesCanonicallyOrThrows, everyTruncationThrows } from './arbitraries.js';

const U32_MAX = 0xffffffff;
const sized = fc.oneof(
  fc.integer({ min: 0, max: 0xfc }),
  fc.integer({ min: 0xfd, max: 0xffff }),
  fc.integer({ min: 0x10000, max: U32_MAX }),
);

function readVarint(data: Uint8Array, max = U32_MAX): number {
  const r = new BufferReader(data);
  const v = r.varint('v', max);
  r.end('v');
  return v;
}
const writeVarint = (n: number): Uint8Array => new BufferWriter(9).varint(n).finish();

test('varint: canonical round trip in every size class, with the length compactSizeLength says', () => {
  fc.assert(
    fc.property(sized, (n) => {
      const enc = writeVarint(n);
      assert.equal(enc.length, compactSizeLength(n));
      assert.equal(readVarint(enc), n);
      everyTruncationThrows(enc, (d) => readVarint(d));
    }),
    { numRuns: RUNS },
  );
});

test('varint: a value written in a wider form than needed is rejected as non-canonical', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 0xffff }), fc.constantFrom(0xfd, 0xfe, 0xff), (n, prefix) => {
      const w = new BufferWriter(9).u8(prefix);
      if (prefix === 0xfd) w.u16(n);
      else if (prefix === 0xfe) w.u32(n);
      else w.u64(BigInt(n));
      if (prefix === 0xfd && n >= 0xfd) return; // that one is canonical
      assert.throws(() => readVarint(w.finish()), /non-canonical/);
    }),
    { numRuns: RUNS },
  );
});

test('varint: values above the limit, and the 64-bit form, are DecodeErrors', () => {
  assert.throws(() => readVarint(writeVarint(1001), 1000), /exceeds limit/);
  assert.equal(readVarint(writeVarint(1000), 1000), 1000);
  assert.throws(() => readVarint(hexToBytes('ff0000000001000000')), /too large/);
  assert.throws(() => new BufferReader(new Uint8Array()).varint(), DecodeError);
});

test('varint: random bytes decode canonically or throw DecodeError', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 10 }), (data) => {
      decodesCanonicallyOrThrows(data, (d) => readVarint(d), writeVarint);
    }),
    { numRuns: RUNS },
  );
});

test('hex helpers reject odd lengths and non-hex characters with DecodeError', () => {
  for (const bad of ['0', 'zz', '0g', ' 00']) assert.throws(() => hexToBytes(bad), DecodeError);
});

test('hex helpers: any text is bytes that print back as the lower-cased text, or a DecodeError', () => {
  fc.assert(
    fc.property(fc.oneof(fc.string({ maxLength: 70 }), fc.stringMatching(/^[0-9a-fA-F]{0,70}$/)), (s) => {
      let b: Uint8Array;
      try {
        b = hexToBytes(s);
      } catch (e) {
        assert.ok(e instanceof DecodeError, String(e));
        assert.throws(() => hashFromHex(s), DecodeError);
        return;
      }
      assert.equal(bytesToHex(b), s.toLowerCase());
      if (b.length === 32) assert.equal(reverseHex(hashFromHex(s)), s.toLowerCase());
      else assert.throws(() => hashFromHex(s), DecodeError);
    }),
    { numRuns: RUNS },
  );
});

test('bytesToHex of any view (a subarray at an offset, a Buffer) is Buffer.toString("hex") of its bytes and round-trips through hexToBytes', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 80 }), fc.nat(80), fc.nat(80), (bytes, a, b) => {
      const start = Math.min(a, bytes.length);
      const view = bytes.subarray(start, Math.max(start, Math.min(b, bytes.length)));
      const want = Buffer.from(view).toString('hex');
      assert.equal(bytesToHex(view), want);
      assert.equal(bytesToHex(Buffer.from(view)), want);
      assert.deepEqual(hexToBytes(bytesToHex(view)), Uint8Array.from(view));
    }),
  );
});

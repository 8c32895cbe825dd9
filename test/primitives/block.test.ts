// Block headers and blocks: round trip of random values, every truncation of a header, of small
// random blocks and of real block 1 and 170, random and bit-flipped bytes: DecodeError or a
// canonical re-encoding.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Block, BlockHeader, HEADER_SIZE } from '../../src/primitives/block.js';
import { BufferReader, DecodeError, equalBytes } from '../../src/primitives/bytes.js';
import { readVector } from '../vectors.js';
import {
  RUNS,
  block,
  decodesCanonicallyOrThrows,
  everyTruncationThrows,
  flipBit,
  header,
} from './arbitraries.js';

const encodeBlock = (b: Block): Uint8Array => b.encode();

test('BlockHeader: random headers round trip; any 80 bytes is a header; other lengths are not', () => {
  fc.assert(
    fc.property(header, (h) => {
      const d = BlockHeader.decode(h.encode());
      assert.deepEqual([d.version, d.time, d.bits, d.nonce], [h.version, h.time, h.bits, h.nonce]);
      assert.ok(equalBytes(d.prevHash, h.prevHash) && equalBytes(d.merkleRoot, h.merkleRoot));
      assert.ok(equalBytes(d.hash(), h.hash()));
      everyTruncationThrows(h.encode(), BlockHeader.decode);
    }),
    { numRuns: RUNS },
  );
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 100 }), (data) => {
      if (data.length === HEADER_SIZE) assert.ok(equalBytes(BlockHeader.decode(data).encode(), data));
      else assert.throws(() => BlockHeader.decode(data), DecodeError);
    }),
    { numRuns: RUNS },
  );
});

test('Block: random blocks round trip with their hash and merkle root', () => {
  fc.assert(
    fc.property(block, (b) => {
      const d = Block.decode(b.encode());
      assert.ok(equalBytes(d.encode(), b.encode()));
      assert.equal(d.txs.length, b.txs.length);
      assert.ok(equalBytes(d.hash(), b.hash()));
      assert.ok(equalBytes(d.merkle().root, b.merkle().root));
    }),
    { numRuns: RUNS },
  );
});

test('Block: every truncation of random blocks and of real blocks 1 and 170 is a DecodeError', () => {
  fc.assert(
    fc.property(block, (b) => everyTruncationThrows(b.encode(), Block.decode)),
    { numRuns: 30 },
  );
  everyTruncationThrows(readVector('bcoin', 'block1.raw'), Block.decode);
  const r = new BufferReader(readVector('btcd', 'blocks1-256.dat'));
  let raw: Uint8Array = new Uint8Array();
  for (let h = 1; h <= 170; h++) {
    r.u32('magic');
    raw = r.bytes(r.u32('length'));
  }
  assert.equal(Block.decode(raw).txs.length, 2);
  everyTruncationThrows(raw, Block.decode);
});

test('Block: random bytes and bit-flipped blocks decode canonically or throw DecodeError', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 70, maxLength: 300 }), (data) =>
      decodesCanonicallyOrThrows(data, Block.decode, encodeBlock),
    ),
    { numRuns: RUNS },
  );
  fc.assert(
    fc.property(block, fc.nat(), (b, bit) =>
      decodesCanonicallyOrThrows(flipBit(b.encode(), bit), Block.decode, encodeBlock),
    ),
    { numRuns: RUNS },
  );
});

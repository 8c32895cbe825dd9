// Core's partial merkle tree and merkle block (gettxoutproof's bytes): random blocks of 1..300
// txids with random matches round trip, extract exactly the matched txids at their positions and
// the block's merkle root; every truncation and random or bit-flipped bytes give a DecodeError or
// a canonical value; a duplicated sibling, or bits and hashes left over or missing give null (Core's ExtractMatches).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { BlockHeader } from '../../src/primitives/block.js';
import { DecodeError, equalBytes } from '../../src/primitives/bytes.js';
import { computeMerkleRoot } from '../../src/primitives/merkle.js';
import { MerkleBlock, PartialMerkleTree } from '../../src/primitives/merkle-block.js';
import { RUNS, decodesCanonicallyOrThrows, everyTruncationThrows, flipBit, hash32 } from './arbitraries.js';

// Distinct leaves: two equal siblings are the CVE-2012-2459 pattern, refused on purpose.
const leaves = fc.uniqueArray(hash32, {
  minLength: 1,
  maxLength: 300,
  selector: (h) => Buffer.from(h).toString('hex'),
});
const withMatches = leaves.chain((ids) =>
  fc.tuple(fc.constant(ids), fc.array(fc.boolean(), { minLength: ids.length, maxLength: ids.length })),
);

function blockOf(ids: Uint8Array[]): BlockHeader {
  return new BlockHeader(1, new Uint8Array(32), computeMerkleRoot(ids).root, 1, 0x207fffff, 0);
}

const encode = (m: MerkleBlock) => m.encode();

test('merkle block: round trip, matches and root of random trees', () => {
  fc.assert(
    fc.property(withMatches, ([ids, match]) => {
      const mb = MerkleBlock.fromBlock(blockOf(ids), ids, (id) => match[(ids as Uint8Array[]).indexOf(id)]);
      const bytes = mb.encode();
      const back = MerkleBlock.decode(bytes);
      assert.ok(equalBytes(back.encode(), bytes));
      const got = back.verify();
      assert.ok(got !== null);
      const want = ids.map((id, i) => ({ id, i })).filter((x) => match[x.i]);
      assert.deepEqual(
        got.map((m) => m.index),
        want.map((x) => x.i),
      );
      got.forEach((m, k) => assert.ok(equalBytes(m.txid, want[k].id)));
      // The bits are padded to whole bytes and every hash is used once.
      assert.equal(back.tree.bits.length % 8, 0);
      assert.ok(back.tree.hashes.length <= ids.length);
    }),
    { numRuns: RUNS },
  );
});

test('merkle block: truncations and junk give DecodeError or a canonical value', () => {
  fc.assert(
    fc.property(withMatches, fc.nat(), ([ids, match], bit) => {
      const bytes = MerkleBlock.fromBlock(
        blockOf(ids),
        ids,
        (id) => match[(ids as Uint8Array[]).indexOf(id)],
      ).encode();
      everyTruncationThrows(bytes, MerkleBlock.decode);
      decodesCanonicallyOrThrows(flipBit(bytes, bit), MerkleBlock.decode, encode);
    }),
    { numRuns: 50 },
  );
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 400 }), (data) =>
      decodesCanonicallyOrThrows(data, MerkleBlock.decode, encode),
    ),
    { numRuns: RUNS },
  );
  // A hash count far past the input is refused before anything is allocated for it.
  const huge = new Uint8Array([...new Uint8Array(84), 0xfe, 0xff, 0xff, 0xff, 0x01]);
  assert.throws(() => MerkleBlock.decode(huge), DecodeError);
  // Trailing bytes after the flags are not a merkle block.
  const ids = [new Uint8Array(32).fill(1)];
  const one = MerkleBlock.fromBlock(blockOf(ids), ids, () => true).encode();
  assert.throws(() => MerkleBlock.decode(Uint8Array.from([...one, 0])), DecodeError);
});

test('merkle block: malformed trees extract nothing', () => {
  const ids = Array.from({ length: 7 }, (_, i) => new Uint8Array(32).fill(i + 1));
  const header = blockOf(ids);
  const mb = MerkleBlock.fromBlock(header, ids, (id) => id[0] === 3 || id[0] === 6);
  assert.deepEqual(
    mb.verify()?.map((m) => m.index),
    [2, 5],
  );
  const t = mb.tree;
  const variants: [string, PartialMerkleTree][] = [
    ['no transactions', new PartialMerkleTree(0, [], [])],
    ['too many transactions', new PartialMerkleTree(16_667, t.hashes, t.bits)],
    ['more hashes than transactions', new PartialMerkleTree(1, [ids[0], ids[1]], [true, true])],
    ['a hash missing', new PartialMerkleTree(7, t.hashes.slice(0, -1), t.bits)],
    ['a hash left over', new PartialMerkleTree(7, [...t.hashes, ids[0]], t.bits)],
    ['a byte of bits left over', new PartialMerkleTree(7, t.hashes, [...t.bits, ...Array(8).fill(false)])],
    ['bits missing', new PartialMerkleTree(7, t.hashes, t.bits.slice(0, 3))],
    ['a smaller count', new PartialMerkleTree(6, t.hashes, t.bits)],
  ];
  for (const [what, tree] of variants) {
    const got = new MerkleBlock(header, tree).verify();
    assert.equal(got, null, what);
  }
  // Core's rpc_txoutproof tweak, the root itself as a one-transaction block, is a well-formed
  // tree with the right root: only the block's own transaction count (verifytxoutproof) refuses it.
  const tweak = new PartialMerkleTree(1, [header.merkleRoot], [true, ...Array<boolean>(7).fill(false)]);
  assert.equal(new MerkleBlock(header, tweak).verify()?.length, 1);
  // So is the same tree claiming 8 transactions: the unmatched last pair is one given hash.
  assert.equal(new MerkleBlock(header, new PartialMerkleTree(8, t.hashes, t.bits)).verify()?.length, 2);
  // CVE-2012-2459: a block whose last two txids are equal has the root of one with the tail
  // duplicated; a proof through such a pair is refused.
  const dup = [ids[0], ids[1], ids[2], ids[2]];
  const dupBlock = MerkleBlock.fromBlock(blockOf(dup), dup, (id) => id === dup[2]);
  assert.equal(dupBlock.verify(), null);
});

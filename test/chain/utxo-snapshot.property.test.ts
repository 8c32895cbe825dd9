// Core's UTXO snapshot file as a decoder of untrusted bytes: Core's own VARINT bit patterns
// (serialize_tests.cpp, varints_bitpatterns) and CompressAmount pairs (compress_tests.cpp), random
// coin sets round trip through the writer and decodeSnapshot, every truncation and random bytes
// give one SnapshotError, and the metadata checks answer with Core's sentences.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { publicKeyFromPrivate } from '../../src/crypto/secp256k1.js';
import {
  BufferReader,
  BufferWriter,
  bytesToHex,
  concatBytes,
  hexToBytes,
} from '../../src/primitives/bytes.js';
import {
  SnapshotError,
  compressAmount,
  decodeSnapshot,
  decompressAmount,
  readVarInt,
  writeSnapshotGroup,
  writeSnapshotMetadata,
  writeVarInt,
} from '../../src/chain/utxo-snapshot.js';

const MAGIC = hexToBytes('fabfb5da');

test("snapshot: Core's VARINT bit patterns and CompressAmount pairs", () => {
  const patterns: [bigint, string][] = [
    [0n, '00'],
    [0x7fn, '7f'],
    [0x80n, '8000'],
    [0x1234n, 'a334'],
    [0xffffn, '82fe7f'],
    [0x123456n, 'c7e756'],
    [0x80123456n, '86ffc7e756'],
    [0xffffffffn, '8efefefe7f'],
    [0x7fffffffffffffffn, 'fefefefefefefefe7f'],
    [0xffffffffffffffffn, '80fefefefefefefefe7f'],
  ];
  for (const [n, hex] of patterns) {
    const w = new BufferWriter();
    writeVarInt(w, n);
    assert.equal(bytesToHex(w.finish()), hex);
    assert.equal(readVarInt(new BufferReader(hexToBytes(hex)), 'n'), n);
  }
  const COIN = 100_000_000n;
  const pairs: [bigint, bigint][] = [
    [0n, 0n],
    [1n, 1n],
    [1_000_000n, 7n],
    [COIN, 9n],
    [50n * COIN, 0x32n],
    [21_000_000n * COIN, 0x1406f40n],
  ];
  for (const [v, c] of pairs) {
    assert.equal(compressAmount(v), c);
    assert.equal(decompressAmount(c), v);
  }
  fc.assert(
    fc.property(
      fc.bigInt({ min: 0n, max: 21_000_000n * COIN }),
      (v) => decompressAmount(compressAmount(v)) === v,
    ),
  );
});

const key = fc
  .uint8Array({ minLength: 32, maxLength: 32 })
  .filter((k) => k.some((b) => b !== 0) && k[0] < 0xf0);
const script = fc.oneof(
  fc.uint8Array({ minLength: 20, maxLength: 20 }).map((h) => Uint8Array.of(0x76, 0xa9, 20, ...h, 0x88, 0xac)),
  fc.uint8Array({ minLength: 20, maxLength: 20 }).map((h) => Uint8Array.of(0xa9, 20, ...h, 0x87)),
  fc.tuple(key, fc.boolean()).map(([k, c]) => {
    const pub = publicKeyFromPrivate(k, c);
    return Uint8Array.of(pub.length, ...pub, 0xac);
  }),
  fc.uint8Array({ maxLength: 80 }),
);
const coin = fc.record({
  value: fc.bigInt({ min: 0n, max: 2_100_000_000_000_000n }),
  script,
  height: fc.integer({ min: 0, max: 0x7fffffff }),
  coinbase: fc.boolean(),
});
const groups = fc.array(
  fc.tuple(
    fc.uint8Array({ minLength: 32, maxLength: 32 }),
    fc.uniqueArray(fc.tuple(fc.nat(0xffffffff), coin), { minLength: 1, maxLength: 4, selector: (x) => x[0] }),
  ),
  { maxLength: 5 },
);
const fileOf = (gs: [Uint8Array, [number, typeof coin extends fc.Arbitrary<infer C> ? C : never][]][]) => {
  const count = gs.reduce((t, [, cs]) => t + cs.length, 0);
  const meta = writeSnapshotMetadata({
    networkMagic: MAGIC,
    baseHash: new Uint8Array(32).fill(7),
    coinsCount: BigInt(count),
  });
  return concatBytes(meta, ...gs.map(([txid, cs]) => writeSnapshotGroup(txid, cs)));
};

test('snapshot: coin sets round trip; every truncation is one SnapshotError', () => {
  fc.assert(
    fc.property(groups, (gs) => {
      const file = fileOf(gs);
      const { metadata, coins } = decodeSnapshot(file, MAGIC);
      assert.deepEqual(metadata.baseHash, new Uint8Array(32).fill(7));
      const want = gs.flatMap(([txid, cs]) => cs.map(([n, c]) => [bytesToHex(txid), n, { ...c }]));
      assert.deepEqual(
        coins.map(([op, c]) => [bytesToHex(op.hash), op.index, c]),
        want,
      );
      for (let cut = 0; cut < file.length; cut += Math.max(1, Math.floor(file.length / 40)))
        assert.throws(() => decodeSnapshot(file.subarray(0, cut), MAGIC), SnapshotError);
      assert.throws(() => decodeSnapshot(concatBytes(file, Uint8Array.of(0)), MAGIC), SnapshotError);
    }),
    { numRuns: 60 },
  );
});

test('snapshot: random bytes after a valid header give coins or one SnapshotError', () => {
  const meta = (n: number) =>
    writeSnapshotMetadata({ networkMagic: MAGIC, baseHash: new Uint8Array(32), coinsCount: BigInt(n) });
  fc.assert(
    fc.property(fc.nat(4), fc.uint8Array({ maxLength: 300 }), (n, body) => {
      try {
        decodeSnapshot(concatBytes(meta(n), body), MAGIC);
      } catch (e) {
        assert.ok(e instanceof SnapshotError, String(e));
      }
    }),
    { numRuns: 1000 },
  );
  const good = meta(0);
  assert.throws(
    () => decodeSnapshot(Uint8Array.of(0x76, ...good.subarray(1)), MAGIC),
    /Invalid UTXO set snapshot magic bytes/,
  );
  const v3 = good.slice();
  v3[5] = 3;
  assert.throws(
    () => decodeSnapshot(v3, MAGIC),
    /Version of snapshot 3 does not match any of the supported versions/,
  );
  assert.throws(
    () => decodeSnapshot(good, hexToBytes('0b110907')),
    /The network of the snapshot \(fabfb5da\) does not match the network of this node \(0b110907\)/,
  );
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { ClassicLevel } from 'classic-level';
import { BlockHeader } from '../../src/primitives/block.js';
import { DecodeError } from '../../src/primitives/bytes.js';
import { OutPoint } from '../../src/primitives/tx.js';
import { ChainCorruptionError, type StoredCoin } from '../../src/chain/ports.js';
import {
  LevelChainStore,
  type BlockLocation,
  decodeCoin,
  decodeIndex,
  decodeIndexEntry,
  decodeUndo,
  encodeCoin,
  encodeIndex,
  encodeIndexEntry,
  encodeUndo,
  keys,
} from '../../src/storage/level-store.js';
import { decodesCanonicallyOrThrows, everyTruncationThrows, flipBit } from '../primitives/arbitraries.js';

const arbCoin = fc.record({
  value: fc.bigInt({ min: 0n, max: 21_000_000n * 100_000_000n }),
  script: fc.uint8Array({ maxLength: 80 }),
  height: fc.integer({ min: 0, max: 0x7fffffff }),
  coinbase: fc.boolean(),
});
const arbHash = fc.uint8Array({ minLength: 32, maxLength: 32 });
const arbHeader = fc
  .tuple(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), arbHash, arbHash, fc.nat(), fc.nat(), fc.nat())
  .map(([v, p, m, t, b, n]) => new BlockHeader(v, p, m, t >>> 0, b >>> 0, n >>> 0));
const arbIndex = fc.record({
  header: arbHeader,
  height: fc.nat(),
  chainWork: fc.bigInt({ min: 0n, max: (1n << 256n) - 1n }),
  status: fc.nat({ max: 63 }),
  sequence: fc.nat(),
});
const u32 = fc.nat({ max: 0xfffffffe });
const arbLoc: fc.Arbitrary<BlockLocation | undefined> = fc.option(
  fc.record({ file: u32, data: fc.oneof(fc.constant(-1), u32), undo: fc.oneof(fc.constant(-1), u32) }),
  { nil: undefined },
);
const arbEntry = fc.tuple(arbIndex, arbLoc);
const encodeEntry = (e: { rec: Parameters<typeof encodeIndex>[0]; loc: BlockLocation | undefined }) =>
  encodeIndexEntry(e.rec, e.loc);

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'tally-store-'));
}

function decodesOrTyped(fn: () => unknown): void {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof DecodeError, String(e));
  }
}

test('coin, index and undo encodings round-trip', () => {
  fc.assert(fc.property(arbCoin, (c) => assert.deepEqual(decodeCoin(encodeCoin(c)), { ...c })));
  fc.assert(
    fc.property(arbIndex, (r) => {
      const d = decodeIndex(encodeIndex(r));
      assert.deepEqual(d.header.encode(), r.header.encode());
      assert.deepEqual({ ...d, header: 0 }, { ...r, header: 0 });
    }),
  );
  fc.assert(
    fc.property(arbEntry, ([r, loc]) => {
      const d = decodeIndexEntry(encodeIndexEntry(r, loc));
      assert.deepEqual(d.loc, loc && { ...loc });
      assert.deepEqual(d.rec.header.encode(), r.header.encode());
    }),
  );
  fc.assert(
    fc.property(fc.array(fc.array(arbCoin, { maxLength: 4 }), { maxLength: 4 }), (u) =>
      assert.deepEqual(
        decodeUndo(encodeUndo(u)),
        u.map((t) => t.map((c) => ({ ...c }))),
      ),
    ),
  );
});

test('truncated or random values give a DecodeError, never a crash', () => {
  fc.assert(
    fc.property(arbCoin, fc.nat(), (c, cut) => {
      const e = encodeCoin(c);
      decodesOrTyped(() => decodeCoin(e.subarray(0, cut % e.length)));
    }),
  );
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), (b) => {
      decodesOrTyped(() => decodeCoin(b));
      decodesOrTyped(() => decodeIndex(b));
      decodesOrTyped(() => decodeIndexEntry(b));
      decodesOrTyped(() => decodeUndo(b));
    }),
  );
});

test('store: batched coin reads, ordered iteration, markers, corruption is typed', async () => {
  const dir = tmp();
  try {
    const s = await LevelChainStore.open(dir);
    const coin = (h: number): StoredCoin => ({
      value: BigInt(h),
      script: Uint8Array.of(h),
      height: h,
      coinbase: h % 2 === 0,
    });
    const ops = [3, 1, 2].map((i) => new OutPoint(new Uint8Array(32).fill(i), 256 - i));
    const b = s.batch();
    ops.forEach((op, i) => b.putCoin(op, coin(i)));
    b.setHeadBlocks([new Uint8Array(32).fill(9), null]);
    await b.write();
    const got = await s.getCoins([ops[1], new OutPoint(new Uint8Array(32), 0), ops[0]]);
    assert.deepEqual(got, [coin(1), undefined, coin(0)]);
    const order: number[] = [];
    for await (const [op] of s.iterateCoins()) order.push(op.hash[0]);
    assert.deepEqual(order, [1, 2, 3]);
    assert.deepEqual(await s.getMarkers(), { best: null, headBlocks: [new Uint8Array(32).fill(9), null] });
    await s.batch().setHeadBlocks(null).setBest(new Uint8Array(32).fill(7)).delCoin(ops[0]).write();
    assert.deepEqual(await s.getMarkers(), { best: new Uint8Array(32).fill(7), headBlocks: null });
    assert.deepEqual(await s.getCoins([ops[0]]), [undefined]);
    // A truncated value is reported as corruption, naming the record.
    const v = await s.raw.get(keys.coin(ops[1]));
    await s.raw.put(keys.coin(ops[1]), v!.subarray(0, 3));
    await assert.rejects(
      s.getCoins([ops[1]]),
      (e: unknown) => e instanceof ChainCorruptionError && /coin/.test(String(e)),
    );
    // Undo data of a block that is not stored has nowhere to go.
    await assert.rejects(s.batch().putUndo(new Uint8Array(32), []).write(), ChainCorruptionError);
    await s.wipeCoins();
    let n = 0;
    for await (const _ of s.iterateCoins()) n++;
    assert.equal(n, 0);
    await s.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('store refuses an unknown schema version', async () => {
  const dir = tmp();
  try {
    const s = await LevelChainStore.open(dir);
    await s.raw.put(Uint8Array.from([0x6d, ...Buffer.from('version')]), Uint8Array.of(99));
    await s.close();
    await assert.rejects(LevelChainStore.open(dir), /schema version 99/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const arbUndo = fc.array(fc.array(arbCoin, { maxLength: 3 }), { maxLength: 3 });

test('every truncation of a coin, index record or undo entry is a DecodeError', () => {
  fc.assert(
    fc.property(arbCoin, arbIndex, arbUndo, arbLoc, (c, r, u, loc) => {
      everyTruncationThrows(encodeCoin(c), decodeCoin);
      everyTruncationThrows(encodeIndex(r), decodeIndex);
      everyTruncationThrows(encodeIndexEntry(r, loc), decodeIndexEntry);
      everyTruncationThrows(encodeUndo(u), decodeUndo);
    }),
    { numRuns: 60 },
  );
});

test('random and bit-flipped values decode to a value that re-encodes exactly, or a DecodeError', () => {
  const canonical = <T>(data: Uint8Array, dec: (v: Uint8Array) => T, enc: (v: T) => Uint8Array): void =>
    decodesCanonicallyOrThrows(data, dec, enc);
  fc.assert(
    fc.property(arbCoin, arbIndex, arbUndo, arbLoc, fc.nat(), (c, r, u, loc, bit) => {
      canonical(flipBit(encodeCoin(c), bit), decodeCoin, encodeCoin);
      canonical(flipBit(encodeIndex(r), bit), decodeIndex, encodeIndex);
      canonical(flipBit(encodeIndexEntry(r, loc), bit), decodeIndexEntry, encodeEntry);
      canonical(flipBit(encodeUndo(u), bit), decodeUndo, encodeUndo);
    }),
    { numRuns: 200 },
  );
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 160 }), (b) => {
      canonical(b, decodeCoin, encodeCoin);
      canonical(b, decodeIndex, encodeIndex);
      canonical(b, decodeIndexEntry, encodeEntry);
      canonical(b, decodeUndo, encodeUndo);
    }),
    { numRuns: 200 },
  );
});

test('store: junk records, keys, markers and schema versions are ChainCorruptionError, never a crash', async () => {
  const dir = tmp();
  const corrupt = (e: unknown): boolean =>
    e instanceof ChainCorruptionError && /corrupted|schema/.test(String(e));
  try {
    const s = await LevelChainStore.open(dir);
    const samples = fc.sample(fc.tuple(fc.uint8Array({ maxLength: 70 }), fc.uint8Array({ maxLength: 40 })), {
      numRuns: 25,
      seed: 3,
    });
    const hash = new Uint8Array(32).fill(4);
    for (const [value, key] of samples) {
      // Marker values: 32 or 64 bytes read back, any other length is corruption.
      await s.raw.put(Uint8Array.from([0x6d, ...Buffer.from('best')]), value);
      await s.raw.put(Uint8Array.from([0x6d, ...Buffer.from('heads')]), value);
      try {
        const m = await s.getMarkers();
        assert.ok(value.length === 32 && m.best?.length === 32, 'a marker of the wrong length was accepted');
      } catch (e) {
        assert.ok(corrupt(e), String(e));
      }
      // A coin under a damaged key of any length, holding junk.
      await s.raw.put(Uint8Array.from([0x63, ...key]), value);
      try {
        for await (const [op, coin] of s.iterateCoins()) assert.ok(op.hash.length === 32 && coin.script);
        assert.equal(key.length, 36, 'a coin key of the wrong length was accepted');
      } catch (e) {
        assert.ok(corrupt(e), String(e));
      }
      await s.raw.del(Uint8Array.from([0x63, ...key]));
    }
    await s.close();
    // An index entry holding junk: the open that loads the index refuses it.
    for (const [value] of samples.slice(0, 6)) {
      const t = await LevelChainStore.open(dir);
      await t.rawIndex.put(keys.index(hash), value);
      await t.close();
      await LevelChainStore.open(dir).then(
        async (u) => {
          assert.equal((await u.loadIndex()).length, 1);
          await u.rawIndex.del(keys.index(hash));
          await u.close();
        },
        (e: unknown) => assert.ok(corrupt(e), String(e)),
      );
      const v = await LevelChainStore.open(dir, { rebuild: 'index' });
      await v.finishReindex();
      await v.close();
    }
    // The schema version: anything but the one byte this build writes (or 1, migrated) is refused.
    for (const [value] of samples.slice(0, 8)) {
      const db = new ClassicLevel<Uint8Array, Uint8Array>(join(dir, 'chainstate'), {
        keyEncoding: 'view',
        valueEncoding: 'view',
      });
      await db.open();
      await db.put(Uint8Array.from([0x6d, ...Buffer.from('version')]), value);
      await db.close();
      try {
        await (await LevelChainStore.open(dir)).close();
        assert.ok(value.length === 1 && (value[0] === 1 || value[0] === 2), 'a schema version was accepted');
      } catch (e) {
        assert.ok(corrupt(e), String(e));
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('store: block appends are not fsynced one by one; a coins flush fsyncs them first (Core FlushStateToDisk)', async () => {
  const dir = tmp();
  try {
    const s = await LevelChainStore.open(dir, { minFreeBytes: 0 });
    for (let i = 0; i < 5; i++)
      await s.batch().putBlock(new Uint8Array(32).fill(i), new Uint8Array(100).fill(i)).write();
    assert.equal(s.files.syncs, 0);
    assert.equal(s.files.durableSizes().get('blk00000.dat') ?? 0, 0);
    await s.batch().setBest(new Uint8Array(32).fill(1)).write();
    assert.equal(s.files.syncs, 1);
    assert.equal(s.files.durableSizes().get('blk00000.dat'), 5 * 108);
    await s.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

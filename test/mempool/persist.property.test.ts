// mempool.dat (Core's format, versions 1 and 2) as untrusted input (a file a crash or a disk may
// have damaged, or one copied from Core): random files round trip, every truncation and random or
// bit-flipped bytes give a DecodeError or a file that re-encodes to exactly its input, loadMempool
// refuses a damaged file before touching the pool, and a file laid out by hand as Core lays it
// out (version 2, XOR key, entry with its delta, mapDeltas, unbroadcast set) decodes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { DecodeError, bytesToHex, concatBytes, equalBytes, hexToBytes } from '../../src/primitives/bytes.js';
import type { Mempool } from '../../src/mempool/mempool.js';
import {
  type MempoolFile,
  decodeMempoolFile,
  encodeMempoolFile,
  loadMempool,
} from '../../src/mempool/persist.js';
import { Tx } from '../../src/primitives/tx.js';
import {
  decodesCanonicallyOrThrows,
  everyTruncationThrows,
  flipBit,
  hash32,
  tx,
} from '../primitives/arbitraries.js';

const i64 = fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n });
const txid = hash32.map(bytesToHex);
const file: fc.Arbitrary<MempoolFile> = fc
  .record({
    v2: fc.boolean(),
    key: fc.uint8Array({ maxLength: 8 }),
    entries: fc.array(
      fc.record({
        time: fc.integer({ min: -Number.MAX_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }),
        tx,
        feeDelta: i64,
      }),
      { maxLength: 3 },
    ),
    deltas: fc.array(fc.tuple(txid, i64), { maxLength: 3 }),
    unbroadcast: fc.array(txid, { maxLength: 2 }),
  })
  .map(({ v2, key, ...rest }) => ({ version: v2 ? 2 : 1, key: v2 ? key : new Uint8Array(0), ...rest }));
const decode = (d: Uint8Array): MempoolFile => decodeMempoolFile(d);

test('mempool.dat: random files round trip (entries with times and deltas, mapDeltas, unbroadcast, key)', () => {
  fc.assert(
    fc.property(file, (f) => {
      const back = decodeMempoolFile(encodeMempoolFile(f));
      assert.equal(back.version, f.version);
      assert.ok(equalBytes(back.key, f.key));
      assert.equal(back.entries.length, f.entries.length);
      back.entries.forEach((e, i) => {
        assert.equal(e.time, f.entries[i].time);
        assert.equal(e.feeDelta, f.entries[i].feeDelta);
        assert.ok(equalBytes(e.tx.encode(), f.entries[i].tx.encode()));
      });
      assert.deepEqual(back.deltas, f.deltas);
      assert.deepEqual(back.unbroadcast, f.unbroadcast);
    }),
    { numRuns: 100 },
  );
});

test('mempool.dat: every truncation, trailing bytes, unknown versions and absurd counts are DecodeErrors', () => {
  fc.assert(
    fc.property(file, fc.uint8Array({ minLength: 1, maxLength: 3 }), (f, extra) => {
      const data = encodeMempoolFile(f);
      everyTruncationThrows(data, decode);
      assert.throws(() => decode(concatBytes(data, extra)), DecodeError);
    }),
    { numRuns: 40 },
  );
  const empty = { key: new Uint8Array(0), entries: [], deltas: [], unbroadcast: [] };
  const v3 = encodeMempoolFile({ version: 1, ...empty }).slice();
  v3[0] = 3;
  assert.throws(() => decode(v3), /unknown mempool.dat version 3/);
  const huge = encodeMempoolFile({ version: 1, ...empty }).slice();
  huge.fill(0xff, 8, 16); // the u64 count
  assert.throws(() => decode(huge), /cannot fit/);
});

test('mempool.dat: random and bit-flipped files decode canonically or throw DecodeError', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 120 }), fc.constantFrom(1, 2), (body, version) => {
      const data = concatBytes(new Uint8Array([version, 0, 0, 0, 0, 0, 0, 0]), body);
      decodesCanonicallyOrThrows(data, decode, encodeMempoolFile);
    }),
    { numRuns: 300 },
  );
  fc.assert(
    fc.property(file, fc.nat(), (f, bit) => {
      decodesCanonicallyOrThrows(flipBit(encodeMempoolFile(f), bit), decode, encodeMempoolFile);
    }),
    { numRuns: 200 },
  );
});

test("mempool.dat: a version-2 file laid out as Core's DumpMempool writes it decodes", () => {
  // A 60-byte transaction: one input, one output.
  const txHex =
    '01000000' +
    '01' +
    '11'.repeat(32) +
    '00000000' +
    '00' +
    'ffffffff' +
    '01' +
    '00e1f50500000000' +
    '00' +
    '00000000';
  const key = hexToBytes('0102030405060708');
  const plain = hexToBytes(
    '0100000000000000' + // entry count (u64)
      txHex +
      '00f1536500000000' + // time 1,700,000,000 (i64)
      'e803000000000000' + // fee delta +1,000 (i64)
      '01' +
      '22'.repeat(32) +
      '18fcffffffffffff' + // mapDeltas: one txid, -1,000
      '01' +
      '33'.repeat(32), // unbroadcast: one txid
  );
  // Everything after version and key is XORed with the key at its absolute file offset (17 on).
  const body = plain.map((b, i) => b ^ key[(17 + i) % 8]);
  const data = concatBytes(hexToBytes('0200000000000000' + '08'), key, body);
  const f = decode(data);
  assert.equal(f.version, 2);
  assert.equal(bytesToHex(f.key), '0102030405060708');
  assert.equal(f.entries.length, 1);
  assert.equal(bytesToHex(f.entries[0].tx.encode()), txHex);
  assert.equal(f.entries[0].time, 1_700_000_000);
  assert.equal(f.entries[0].feeDelta, 1000n);
  assert.deepEqual(f.deltas, [['22'.repeat(32), -1000n]]);
  assert.deepEqual(f.unbroadcast, ['33'.repeat(32)]);
  assert.ok(equalBytes(encodeMempoolFile(f), data));
  assert.ok(Tx.decode(hexToBytes(txHex)));
});

test('loadMempool: a damaged file is a DecodeError naming the file, and the pool is not touched', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tally-mempool-prop-'));
  try {
    const path = join(dir, 'mempool.dat');
    const untouched = {
      accept: () => assert.fail('a damaged file must not reach the pool'),
      prioritise: () => assert.fail('a damaged file must not set a delta'),
    } as unknown as Mempool;
    const samples = fc.sample(fc.tuple(file, fc.nat()), { numRuns: 20, seed: 7 });
    for (const [f, cut] of samples) {
      const data = encodeMempoolFile(f);
      writeFileSync(path, data.subarray(0, cut % data.length));
      await assert.rejects(loadMempool(untouched, path), DecodeError);
    }
    writeFileSync(path, 'not a mempool file at all');
    await assert.rejects(
      loadMempool(untouched, path),
      (e: unknown) => e instanceof DecodeError && e.message.includes(path),
    );
    assert.deepEqual(await loadMempool(untouched, join(dir, 'missing.dat')), {
      loaded: 0,
      failed: 0,
      alreadyThere: 0,
      deltas: 0,
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

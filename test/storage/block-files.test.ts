import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  appendFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { ClassicLevel } from 'classic-level';
import { BlockFiles, frameRecord, scanRecords } from '../../src/storage/block-files.js';
import {
  LevelChainStore,
  META_VERSION,
  P_BLOCK,
  P_INDEX,
  P_UNDO,
  encodeIndex,
  encodeUndo,
  hashKey,
} from '../../src/storage/level-store.js';
import { BlockHeader } from '../../src/primitives/block.js';
import { BlockStatus, ChainCorruptionError, type IndexRecord } from '../../src/chain/ports.js';

const MAGIC = Uint8Array.from([0xfa, 0xbf, 0xb5, 0xda]);
// Record bytes never hold the magic's first byte, so a torn record's length, which reaches into
// the next record's frame, always covers bytes no whole record has.
const arbRecord = fc
  .uint8Array({ minLength: 1, maxLength: 300 })
  .map((d) => d.map((b) => (b === 0xfa ? 0 : b)));

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'tally-blocks-'));
}

test('scanRecords finds every whole record, whatever torn or junk bytes lie between and after', () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(arbRecord, fc.uint8Array({ maxLength: 20 }), fc.boolean()), { maxLength: 8 }),
      fc.nat(),
      (items, cut) => {
        // Each record is followed by junk or by a torn copy of a record (a kill mid-append).
        const parts: Uint8Array[] = [];
        const whole: Uint8Array[] = [];
        for (const [data, junk, torn] of items) {
          parts.push(frameRecord(MAGIC, data));
          whole.push(data);
          const filler = torn ? frameRecord(MAGIC, data).subarray(0, 8 + (cut % data.length)) : junk;
          // Junk that happens to hold a whole record would be found too: keep the magic out of it.
          parts.push(filler.map((b) => (b === MAGIC[0] && !torn ? 0 : b)));
        }
        const buf = Buffer.concat(parts);
        // The reindex accepts what decodes as a block; here, what has no magic byte in it.
        const valid = (d: Uint8Array) => !d.includes(0xfa);
        const found = [...scanRecords(buf, MAGIC, valid)].map(([, d]) => [...d]);
        assert.deepEqual(
          found,
          whole.map((d) => [...d]),
        );
      },
    ),
    { numRuns: 300 },
  );
  // Random bytes: never a throw, every record found lies inside the buffer.
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 400 }), (b) => {
      for (const [pos, d] of scanRecords(b, MAGIC)) assert.ok(pos + d.length <= b.length);
    }),
  );
});

test('block files: appends land at their positions, roll over at the size limit, undo checksums are checked', async () => {
  const dir = tmp();
  try {
    const f = BlockFiles.open(dir, { magic: MAGIC, maxFileSize: 1000 });
    const blocks = Array.from({ length: 6 }, (_, i) => new Uint8Array(300).fill(i + 1));
    const pos: { file: number; pos: number }[] = [];
    await f.append(blocks.map((data, i) => ({ kind: 'blk', data, done: (p) => (pos[i] = p) })));
    assert.deepEqual(
      pos.map((p) => p.file),
      [0, 0, 0, 1, 1, 1],
    );
    for (let i = 0; i < 6; i++) assert.deepEqual(await f.readBlock(pos[i]), blocks[i]);
    const hash = new Uint8Array(32).fill(9);
    let undoAt = { file: 0, pos: 0 };
    await f.append([{ kind: 'rev', file: 0, data: Uint8Array.of(1, 2, 3), hash, done: (p) => (undoAt = p) }]);
    assert.deepEqual(await f.readUndo(undoAt, hash), Uint8Array.of(1, 2, 3));
    await assert.rejects(f.readUndo(undoAt, new Uint8Array(32)), ChainCorruptionError);
    // A torn tail (a kill mid-append) is left behind; the next append goes after it, and a reopen
    // and a scan see every whole record.
    appendFileSync(join(dir, 'blk00001.dat'), frameRecord(MAGIC, new Uint8Array(50)).subarray(0, 20));
    await f.close();
    const g = BlockFiles.open(dir, { magic: MAGIC, maxFileSize: 1000 });
    let last = { file: 0, pos: 0 };
    await g.append([{ kind: 'blk', data: Uint8Array.of(7), done: (p) => (last = p) }]);
    assert.deepEqual(await g.readBlock(last), Uint8Array.of(7));
    const scanned: number[] = [];
    for await (const [, d] of g.scan()) scanned.push(d[0]);
    assert.deepEqual(scanned, [1, 2, 3, 4, 5, 6, 7]);
    assert.equal(
      g.totalBytes(),
      readdirSync(dir).reduce((t, n) => t + readFileSync(join(dir, n)).length, 0),
    );
    await g.remove(0);
    assert.deepEqual(readdirSync(dir).sort(), ['blk00001.dat']);
    await assert.rejects(g.readBlock(pos[0]), ChainCorruptionError);
    await g.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a data directory of the old layout (schema 1, blocks in chainstate/) is migrated once', async () => {
  const root = tmp();
  try {
    const db = new ClassicLevel<Uint8Array, Uint8Array>(join(root, 'chainstate'), {
      keyEncoding: 'view',
      valueEncoding: 'view',
    });
    await db.open();
    const recs: [Uint8Array, IndexRecord, Uint8Array][] = [];
    for (let i = 0; i < 5; i++) {
      const header = new BlockHeader(1, new Uint8Array(32).fill(i), new Uint8Array(32), i, 0x207fffff, i);
      const rec = { header, height: i, chainWork: BigInt(i), status: BlockStatus.HAVE_DATA, sequence: i };
      recs.push([header.hash(), rec, new Uint8Array(100 + i).fill(i)]);
    }
    const undo = [[{ value: 5n, script: Uint8Array.of(0x51), height: 1, coinbase: true }]];
    await db.batch([
      { type: 'put', key: META_VERSION, value: Uint8Array.of(1) },
      ...recs.flatMap(([h, rec, raw]) => [
        { type: 'put' as const, key: hashKey(P_INDEX, h), value: encodeIndex(rec) },
        { type: 'put' as const, key: hashKey(P_BLOCK, h), value: raw },
      ]),
      { type: 'put', key: hashKey(P_UNDO, recs[3][0]), value: encodeUndo(undo) },
    ]);
    await db.close();
    // An interrupted earlier try left a file behind: it is thrown away, not kept beside.
    mkdirSync(join(root, 'blocks'));
    writeFileSync(join(root, 'blocks', 'blk00000.dat'), new Uint8Array(50).fill(0xee));
    const notes: string[] = [];
    const s = await LevelChainStore.open(root, { onNote: (m) => notes.push(m) });
    assert.match(notes.join('\n'), /moved 5 blocks/);
    assert.equal((await s.loadIndex()).length, 5);
    for (const [h, , raw] of recs) assert.deepEqual(await s.getBlock(h), raw);
    assert.deepEqual(await s.getUndo(recs[3][0]), undo);
    assert.equal(await s.getUndo(recs[2][0]), undefined);
    let legacy = 0;
    for await (const [k] of s.raw.iterator()) if ([P_BLOCK, P_UNDO, P_INDEX].includes(k[0])) legacy++;
    assert.equal(legacy, 0, 'the moved records are gone from chainstate/');
    await s.close();
    // Once: the next open migrates nothing and finds everything where it was.
    const again: string[] = [];
    const t = await LevelChainStore.open(root, { onNote: (m) => again.push(m) });
    assert.deepEqual(again, []);
    assert.deepEqual(await t.getBlock(recs[4][0]), recs[4][2]);
    await t.close();
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

// mempool.dat as untrusted input (a file a crash or a disk may have damaged): random entries round
// trip, every truncation and random or bit-flipped bytes give a DecodeError or a file that
// re-encodes to exactly its input, and loadMempool refuses a damaged file before touching the pool.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { DecodeError, concatBytes, equalBytes } from '../../src/primitives/bytes.js';
import type { Mempool } from '../../src/mempool/mempool.js';
import {
  type SavedEntry,
  decodeMempoolFile,
  encodeMempoolFile,
  loadMempool,
} from '../../src/mempool/persist.js';
import { decodesCanonicallyOrThrows, everyTruncationThrows, flipBit, tx } from '../primitives/arbitraries.js';

const entry = fc
  .tuple(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), tx)
  .map(([time, t]): SavedEntry => ({ time, tx: t }));
const entries = fc.array(entry, { maxLength: 4 });
const decode = (d: Uint8Array): SavedEntry[] => decodeMempoolFile(d);
const MAGIC = encodeMempoolFile([]).subarray(0, 4);

test('mempool.dat: random entries round trip in order with their times', () => {
  fc.assert(
    fc.property(entries, (es) => {
      const back = decodeMempoolFile(encodeMempoolFile(es));
      assert.equal(back.length, es.length);
      back.forEach((e, i) => {
        assert.equal(e.time, es[i].time);
        assert.ok(equalBytes(e.tx.encode(), es[i].tx.encode()));
      });
    }),
    { numRuns: 100 },
  );
});

test('mempool.dat: every truncation, trailing bytes and out-of-range times are DecodeErrors', () => {
  fc.assert(
    fc.property(entries, fc.uint8Array({ minLength: 1, maxLength: 3 }), (es, extra) => {
      const data = encodeMempoolFile(es);
      everyTruncationThrows(data, decode);
      assert.throws(() => decode(concatBytes(data, extra)), DecodeError);
    }),
    { numRuns: 40 },
  );
  const one = encodeMempoolFile([{ time: 0, tx: fc.sample(tx, { numRuns: 1, seed: 1 })[0] }]).slice();
  one.fill(0xff, 5, 13); // the entry's u64 time
  assert.throws(() => decode(one), /time out of range/);
});

test('mempool.dat: random and bit-flipped files decode canonically or throw DecodeError', () => {
  const reencode = (es: SavedEntry[]): Uint8Array => encodeMempoolFile(es);
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 120 }), fc.boolean(), (body, withMagic) => {
      const data = withMagic ? concatBytes(MAGIC, body) : body;
      decodesCanonicallyOrThrows(data, decode, reencode);
    }),
    { numRuns: 300 },
  );
  fc.assert(
    fc.property(entries, fc.nat(), (es, bit) => {
      decodesCanonicallyOrThrows(flipBit(encodeMempoolFile(es), bit), decode, reencode);
    }),
    { numRuns: 200 },
  );
});

test('loadMempool: a damaged file is a DecodeError naming the file, and the pool is not touched', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tally-mempool-prop-'));
  try {
    const path = join(dir, 'mempool.dat');
    const untouched = {
      accept: () => assert.fail('a damaged file must not reach the pool'),
    } as unknown as Mempool;
    const samples = fc.sample(fc.tuple(entries, fc.nat()), { numRuns: 20, seed: 7 });
    for (const [es, cut] of samples) {
      const data = encodeMempoolFile(es);
      writeFileSync(path, data.subarray(0, cut % data.length));
      await assert.rejects(loadMempool(untouched, path), DecodeError);
    }
    writeFileSync(path, 'not a mempool file at all');
    await assert.rejects(
      loadMempool(untouched, path),
      (e: unknown) => e instanceof DecodeError && e.message.includes(path),
    );
    assert.deepEqual(await loadMempool(untouched, join(dir, 'missing.dat')), { loaded: 0, failed: 0 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

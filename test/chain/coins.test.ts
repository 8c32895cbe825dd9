// The coins cache's read ahead (prefetch): what it read is kept unless a flush came between the
// read and its answer, since the store may no longer hold what it read.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CoinsCache } from '../../src/chain/coins.js';
import type { ChainStore, StoreBatch, StoredCoin } from '../../src/chain/ports.js';
import { OutPoint } from '../../src/primitives/tx.js';

/** A store whose reads answer only when the test says, and whose batches only count writes. */
function slowStore(coin: StoredCoin | undefined): {
  store: ChainStore;
  answer: () => void;
  writes: () => number;
  reads: () => number;
} {
  const waiting: (() => void)[] = [];
  let writes = 0;
  let reads = 0;
  const batch = (): StoreBatch => {
    const b = {
      bytes: 0,
      length: 0,
      putCoin: () => b,
      delCoin: () => b,
      setBest: () => b,
      setHeadBlocks: () => b,
      write: () => {
        writes++;
        return Promise.resolve();
      },
    };
    return b as unknown as StoreBatch;
  };
  const store = {
    getCoins: (ops: readonly OutPoint[]) => {
      reads++;
      return new Promise<(StoredCoin | undefined)[]>((resolve) =>
        waiting.push(() => resolve(ops.map(() => coin))),
      );
    },
    batch,
  } as unknown as ChainStore;
  return { store, answer: () => waiting.shift()?.(), writes: () => writes, reads: () => reads };
}

const coin: StoredCoin = { value: 5n, script: new Uint8Array([0x51]), height: 1, coinbase: false };
const op = (i: number): OutPoint => new OutPoint(new Uint8Array(32).fill(7), i);

test('a read ahead is kept when nothing came between', async () => {
  const { store, answer } = slowStore(coin);
  const cache = new CoinsCache(store);
  const read = cache.prefetch([op(0)]);
  answer();
  const at = await read;
  assert.equal(cache.has(op(0)), true);
  assert.deepEqual(cache.getCoin(op(0)), coin);
  // Kept under the generation it answers, which a flush moves on; nothing missing answers at once.
  assert.equal(at, cache.generation);
  assert.equal(await cache.prefetch([op(0)]), at);
  await cache.flush(new Uint8Array(32), null, { maxBatchBytes: 1 << 20 });
  assert.notEqual(cache.generation, at);
});

test('a read ahead that a flush straddles is dropped, and a later fetch reads again', async () => {
  const { store, answer, writes } = slowStore(coin);
  const cache = new CoinsCache(store);
  const read = cache.prefetch([op(0)]);
  // A spend of another coin, flushed while the read is under way.
  cache.add(op(1), coin);
  await cache.flush(new Uint8Array(32), null, { maxBatchBytes: 1 << 20 });
  assert.equal(writes(), 1);
  answer();
  assert.equal(await read, null, 'dropped');
  assert.equal(cache.has(op(0)), false, 'what the read saw may predate the flush');
  const again = cache.fetch([op(0)]);
  answer();
  await again;
  assert.deepEqual(cache.getCoin(op(0)), coin);
});

test('an outpoint the store lacks leaves no entry; added then, it is fresh and its spend writes nothing', async () => {
  const { store, answer, writes, reads } = slowStore(undefined);
  const cache = new CoinsCache(store);
  const read = cache.fetch([op(3)]);
  answer();
  await read;
  assert.equal(cache.has(op(3)), false, 'as Core, an absence is not cached');
  assert.equal(cache.getCoin(op(3)), undefined);
  assert.equal(cache.size, 0);
  cache.add(op(3), coin);
  assert.deepEqual(cache.spend(op(3)), coin);
  assert.equal(cache.size, 0, 'a fresh coin spent leaves nothing to delete');
  // A second read of the same absent outpoint goes to the store again.
  const again = cache.fetch([op(3)]);
  answer();
  await again;
  assert.equal(reads(), 2);
  assert.equal(writes(), 0);
});

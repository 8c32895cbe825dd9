// The coins cache's read ahead (prefetch): what it read is kept unless a flush came between the
// read and its answer, since the store may no longer hold what it read.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CoinsCache } from '../../src/chain/coins.js';
import type { ChainStore, StoreBatch, StoredCoin } from '../../src/chain/ports.js';
import { OutPoint } from '../../src/primitives/tx.js';

/** A store whose reads answer only when the test says, and whose batches only count writes. */
function slowStore(coin: StoredCoin): { store: ChainStore; answer: () => void; writes: () => number } {
  const waiting: (() => void)[] = [];
  let writes = 0;
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
    getCoins: (ops: readonly OutPoint[]) =>
      new Promise<(StoredCoin | undefined)[]>((resolve) => waiting.push(() => resolve(ops.map(() => coin)))),
    batch,
  } as unknown as ChainStore;
  return { store, answer: () => waiting.shift()?.(), writes: () => writes };
}

const coin: StoredCoin = { value: 5n, script: new Uint8Array([0x51]), height: 1, coinbase: false };
const op = (i: number): OutPoint => new OutPoint(new Uint8Array(32).fill(7), i);

test('a read ahead is kept when nothing came between', async () => {
  const { store, answer } = slowStore(coin);
  const cache = new CoinsCache(store);
  const read = cache.prefetch([op(0)]);
  answer();
  await read;
  assert.equal(cache.has(op(0)), true);
  assert.deepEqual(cache.getCoin(op(0)), coin);
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
  await read;
  assert.equal(cache.has(op(0)), false, 'what the read saw may predate the flush');
  const again = cache.fetch([op(0)]);
  answer();
  await again;
  assert.deepEqual(cache.getCoin(op(0)), coin);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { FeeEstimator } from '../../src/mempool/fee-estimator.js';
import type { MempoolEntry } from '../../src/mempool/mempool.js';
import { bytesToHex } from '../../src/primitives/bytes.js';
import { OutPoint, Tx, TxIn, TxOut } from '../../src/primitives/tx.js';

/** A pool stand-in: entries by internal-order txid hex, as Mempool keys them. */
class FakePool {
  readonly entries = new Map<string, MempoolEntry>();
  private serial = 0;
  get(id: Uint8Array | string): MempoolEntry | undefined {
    return this.entries.get(typeof id === 'string' ? id : bytesToHex(id));
  }
  all(): MempoolEntry[] {
    return [...this.entries.values()];
  }
  /** Adds a transaction paying `ratePerKb` that entered with the tip at `height`. */
  add(ratePerKb: number, height: number): Tx {
    const n = ++this.serial;
    const hash = new Uint8Array(32);
    new DataView(hash.buffer).setUint32(0, n);
    const tx = new Tx(
      1,
      [new TxIn(new OutPoint(hash, 0), new Uint8Array(107))],
      [new TxOut(1000n, new Uint8Array(25))],
      0,
    );
    const txid = bytesToHex(tx.txid());
    this.entries.set(txid, {
      tx,
      txid,
      fee: BigInt(Math.round((ratePerKb * tx.size) / 1000)),
      size: tx.size,
      time: 0,
      height,
      sigops: 0,
    });
    return tx;
  }
  /** Mines `txs` at `height` into the estimator, then drops them from the pool. */
  mine(est: FeeEstimator, height: number, txs: Tx[]): void {
    est.processBlock(height, txs, this);
    for (const t of txs) this.entries.delete(bytesToHex(t.txid()));
  }
}

test('no data: null; a target beyond half the history is reduced', () => {
  const est = new FeeEstimator();
  assert.equal(est.estimate(2), null);
  const pool = new FakePool();
  pool.mine(est, 10, []);
  assert.equal(est.estimate(2), null);
  assert.equal(est.blocksTracked, 1);
});

test('fast high fees and stuck low fees: the estimate is the high rate', () => {
  const est = new FeeEstimator();
  const pool = new FakePool();
  for (let h = 1; h <= 40; h++) {
    const high = Array.from({ length: 5 }, () => pool.add(20_000, h - 1));
    for (let i = 0; i < 5; i++) pool.add(1_000, h - 1); // never mined
    pool.mine(est, h, high);
  }
  const e = est.estimate(3)!;
  assert.equal(e.blocks, 3);
  assert.ok(Math.abs(Number(e.feerate) - 20_000) <= 1, `got ${e.feerate}`);
  assert.equal(est.estimate(1)!.blocks, 2);
  // A target longer than half of the 40 blocks seen is answered for 20.
  assert.equal(est.estimate(500)!.blocks, 20);
});

test('weights are renormalised before they overflow; estimates hold across it', () => {
  const est = new FeeEstimator({ decay: 0.5 });
  const pool = new FakePool();
  for (let h = 1; h <= 400; h++) {
    const high = Array.from({ length: 5 }, () => pool.add(20_000, h - 1));
    pool.mine(est, h, high);
  }
  const e = est.estimate(2)!;
  assert.ok(Math.abs(Number(e.feerate) - 20_000) <= 1, `got ${e.feerate}`);
});

test('slow low fees: a long target finds the low rate, a short one the high rate', () => {
  const est = new FeeEstimator();
  const pool = new FakePool();
  const waiting: Tx[][] = [];
  for (let h = 1; h <= 60; h++) {
    const high = Array.from({ length: 5 }, () => pool.add(30_000, h - 1));
    waiting.push(Array.from({ length: 5 }, () => pool.add(2_000, h - 1)));
    // Low-fee transactions confirm five blocks after they arrive.
    const low = waiting.length > 5 ? waiting.shift()! : [];
    pool.mine(est, h, [...high, ...low]);
  }
  const fast = est.estimate(2)!;
  const slow = est.estimate(10)!;
  assert.ok(Number(fast.feerate) >= 29_000, `fast ${fast.feerate}`);
  assert.ok(Number(slow.feerate) <= 2_100, `slow ${slow.feerate}`);
});

test('old or repeated heights are ignored', () => {
  const est = new FeeEstimator();
  const pool = new FakePool();
  pool.mine(est, 5, []);
  pool.mine(est, 5, []);
  pool.mine(est, 3, []);
  assert.equal(est.blocksTracked, 1);
});

test('property: random histories never throw; an estimate is positive and for at most the target', () => {
  const block = fc.array(
    fc.record({ rate: fc.integer({ min: 0, max: 2_000_000 }), wait: fc.integer({ min: 0, max: 30 }) }),
    {
      maxLength: 8,
    },
  );
  fc.assert(
    fc.property(fc.array(block, { maxLength: 40 }), fc.integer({ min: 1, max: 1008 }), (blocks, target) => {
      const est = new FeeEstimator({ maxBlocks: 50 });
      const pool = new FakePool();
      const due = new Map<number, Tx[]>();
      blocks.forEach((txs, i) => {
        const h = i + 1;
        for (const t of txs) {
          const tx = pool.add(t.rate, h - 1);
          const at = h + t.wait;
          due.set(at, [...(due.get(at) ?? []), tx]);
        }
        pool.mine(est, h, due.get(h) ?? []);
      });
      const e = est.estimate(target);
      if (e !== null) {
        assert.ok(e.feerate >= 0n);
        assert.ok(e.blocks >= 2 && e.blocks <= Math.max(2, target));
      }
    }),
    { numRuns: 150 },
  );
});

// The script-execution cache: a txid as bytes or as Tx.txidKey() names the same entry; a hit needs
// the cached flags to cover the asked ones; take removes a hit only; the bound evicts the oldest.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ScriptExecCache } from '../../src/chain/script-cache.js';
import { Tx, TxIn, TxOut, OutPoint } from '../../src/primitives/tx.js';

const txOf = (n: number): Tx =>
  new Tx(
    1,
    [new TxIn(new OutPoint(new Uint8Array(32).fill(n), n), Uint8Array.of(n))],
    [new TxOut(1n, new Uint8Array(0))],
    0,
  );

test('script cache: bytes and txidKey are one entry; flags must cover; take removes hits only', () => {
  const c = new ScriptExecCache(10);
  const a = txOf(1);
  c.add(a.txid(), 0b101);
  assert.equal(c.has(a.txidKey(), 0b100), true);
  assert.equal(c.has(a.txidKey(), 0b010), false);
  // A miss by flags is not removed.
  assert.equal(c.take(a.txidKey(), 0b111), false);
  assert.equal(c.size, 1);
  assert.equal(c.take(a.txidKey(), 0b001), true);
  assert.equal(c.size, 0);
  assert.equal(c.take(a.txid(), 0b001), false);
  // Added by key, found by bytes; more flags replace fewer.
  c.add(a.txidKey(), 0b001);
  c.add(a.txid(), 0b011);
  assert.equal(c.size, 1);
  assert.equal(c.has(a.txid(), 0b011), true);
});

test('script cache: bounded, the oldest entry goes first', () => {
  const c = new ScriptExecCache(3);
  const txs = [1, 2, 3, 4].map(txOf);
  for (const t of txs) c.add(t.txidKey(), 1);
  assert.equal(c.size, 3);
  assert.equal(c.has(txs[0].txid(), 1), false);
  for (const t of txs.slice(1)) assert.equal(c.has(t.txid(), 1), true);
});

// The orphanage's bounds as Core's TxOrphanage (mempool/orphanage.ts): 100 in total with eviction
// from the heaviest peer, 404,000 weight units per peer, no orphan over 400,000, 20 minutes of
// life, a peer's orphans gone when it leaves, a block's included and conflicting orphans gone,
// children found by outpoint; a random sequence of operations keeps every bound and index.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  MAX_ORPHAN_WEIGHT_PER_PEER,
  ORPHAN_TX_EXPIRE_INTERVAL,
  ORPHAN_TX_EXPIRE_TIME,
  Orphanage,
} from '../../src/mempool/orphanage.js';
import { bytesToHex } from '../../src/primitives/bytes.js';
import { OutPoint, Tx, TxIn, TxOut } from '../../src/primitives/tx.js';

/** A transaction spending output `index` of `parent` (a made-up txid from `seed` by default), padded by `pad` bytes. */
function orphan(seed: number, pad = 0, parent?: Tx, index = 0): Tx {
  const prev = parent?.txid() ?? new Uint8Array(32).fill(7);
  if (!parent) new DataView(prev.buffer).setUint32(0, seed);
  return new Tx(
    2,
    [new TxIn(new OutPoint(prev, index), Uint8Array.of(0x51))],
    [new TxOut(BigInt(seed), new Uint8Array(1 + pad).fill(0x51)), new TxOut(1n, Uint8Array.of(0x51))],
    0,
  );
}

const id = (tx: Tx): string => bytesToHex(tx.txid());

test('200 orphans from one peer: 100 kept (the newest), and a flooder does not push out another peer', () => {
  const o = new Orphanage(100);
  const honest = orphan(1_000_000);
  assert.ok(o.add(honest, 1));
  const flood = Array.from({ length: 200 }, (_, i) => orphan(i));
  for (const tx of flood) o.add(tx, 2);
  assert.equal(o.size, 100);
  assert.ok(o.has(id(honest)), "the honest peer's orphan survives the flood");
  assert.ok(o.has(id(flood[199])) && !o.has(id(flood[0])), "the flooder's oldest went first");
  assert.equal(o.eraseForPeer(2), 99);
  assert.deepEqual(
    o.all().map((x) => x.txid),
    [id(honest)],
  );
});

test('per peer at most 404,000 weight units: its oldest go; one orphan over 400,000 is not kept', () => {
  const o = new Orphanage(100);
  const big = Array.from({ length: 5 }, (_, i) => orphan(i, 30_000));
  for (const tx of big) o.add(tx, 1);
  const w = big[0].size * 4;
  assert.equal(o.size, Math.floor(MAX_ORPHAN_WEIGHT_PER_PEER / w));
  assert.ok(o.usage(1) <= MAX_ORPHAN_WEIGHT_PER_PEER);
  assert.ok(o.has(id(big[4])) && !o.has(id(big[0])));
  assert.equal(o.add(orphan(9, 100_000), 2), false);
  assert.equal(o.usage(2), 0);
});

test('an orphan given by two peers stays until both have left', () => {
  const o = new Orphanage();
  const tx = orphan(1);
  o.add(tx, 1);
  o.add(tx, 2);
  assert.deepEqual([...o.all()[0].from], [1, 2]);
  assert.equal(o.eraseForPeer(1), 0);
  assert.ok(o.has(id(tx)));
  assert.equal(o.usage(1), 0);
  assert.equal(o.eraseForPeer(2), 1);
  assert.equal(o.size, 0);
});

test('orphans expire after 20 minutes, swept at most every 5', () => {
  let now = 1_000;
  const o = new Orphanage(100, () => now);
  const first = orphan(1);
  o.add(first, 1);
  assert.equal(o.all()[0].expire, 1_000 + ORPHAN_TX_EXPIRE_TIME);
  now += ORPHAN_TX_EXPIRE_TIME - 1;
  o.add(orphan(2), 1);
  assert.equal(o.size, 2);
  now += ORPHAN_TX_EXPIRE_INTERVAL;
  o.add(orphan(3), 1);
  assert.ok(!o.has(id(first)), 'expired at the next sweep');
  assert.equal(o.size, 2);
  now += ORPHAN_TX_EXPIRE_TIME;
  assert.deepEqual(o.all(), [], 'listing sweeps too');
  assert.equal(o.usage(1), 0);
});

test("a parent's children come from the outpoint index; a block takes included and conflicting orphans", () => {
  const o = new Orphanage();
  const parent = orphan(1);
  const a = orphan(2, 0, parent, 0);
  const b = orphan(3, 0, parent, 1);
  const c = orphan(4, 0, parent, 1); // conflicts with b
  const other = orphan(5);
  for (const tx of [a, b, c, other]) o.add(tx, 1);
  assert.deepEqual(
    o
      .childrenOf(parent)
      .map((x) => x.txid)
      .sort(),
    [id(a), id(b), id(c)].sort(),
  );
  assert.deepEqual(o.childrenOf(a), []);
  assert.equal(o.eraseForBlock([a, b]), 3);
  assert.deepEqual(
    o.all().map((x) => x.txid),
    [id(other)],
  );
  assert.deepEqual(o.childrenOf(parent), []);
});

test('random adds, departures, blocks and time keep the bounds and the indexes', () => {
  const op = fc.oneof(
    fc.record({ k: fc.constant('add' as const), seed: fc.nat(40), peer: fc.nat(4), pad: fc.nat(60_000) }),
    fc.record({ k: fc.constant('gone' as const), peer: fc.nat(4) }),
    fc.record({ k: fc.constant('block' as const), seed: fc.nat(40) }),
    fc.record({ k: fc.constant('time' as const), s: fc.nat(ORPHAN_TX_EXPIRE_TIME) }),
  );
  fc.assert(
    fc.property(fc.array(op, { maxLength: 60 }), fc.integer({ min: 1, max: 12 }), (ops, max) => {
      let now = 0;
      const o = new Orphanage(max, () => now);
      const parent = orphan(99);
      // Seeds below 20 spend the parent (two outputs: some conflict), the rest made-up coins.
      const make = (seed: number, pad: number): Tx =>
        seed < 20 ? orphan(seed, pad % 5_000, parent, seed % 2) : orphan(seed, pad);
      for (const x of ops) {
        if (x.k === 'add') o.add(make(x.seed, x.pad), x.peer);
        else if (x.k === 'gone') o.eraseForPeer(x.peer);
        else if (x.k === 'block') o.eraseForBlock([make(x.seed, 0)]);
        else now += x.s;
        const all = o.all();
        assert.ok(all.length <= max);
        for (let p = 0; p <= 4; p++) {
          const usage = all.filter((t) => t.from.has(p)).reduce((s, t) => s + t.weight, 0);
          assert.equal(o.usage(p), usage);
          assert.ok(usage <= MAX_ORPHAN_WEIGHT_PER_PEER);
        }
        for (const t of all) {
          assert.ok(t.from.size > 0 && t.expire > now);
          assert.ok(t.weight <= 400_000);
        }
        const children = new Set(o.childrenOf(parent).map((t) => t.txid));
        assert.deepEqual(
          children,
          new Set(
            all.filter((t) => bytesToHex(t.tx.inputs[0].prevout.hash) === id(parent)).map((t) => t.txid),
          ),
        );
      }
    }),
    { numRuns: 200 },
  );
});

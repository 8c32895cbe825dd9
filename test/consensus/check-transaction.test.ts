// Bitcoin Core's CheckTransaction: one case per reject reason, and the boundaries around each.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { NULL_HASH, OutPoint, Tx, TxIn, TxOut } from '../../src/primitives/tx.js';
import { checkTransaction, MAX_TX_SIZE } from '../../src/consensus/tx-check.js';
import { MAX_MONEY } from '../../src/consensus/amount.js';
import { RejectError } from '../../src/consensus/errors.js';
import { assertReject, coinbase, outpoint, spend } from './fixtures.js';

test('a plain spend and a coinbase pass', () => {
  checkTransaction(spend([outpoint(1), outpoint(1, 1)], [1n, 2n]));
  checkTransaction(coinbase(Uint8Array.of(1, 2)));
});

test('bad-txns-vin-empty / bad-txns-vout-empty', () => {
  assertReject(() => checkTransaction(spend([], [1n])), 'bad-txns-vin-empty');
  assertReject(() => checkTransaction(spend([outpoint(1)], [])), 'bad-txns-vout-empty');
});

test('bad-txns-oversize above 1,000,000 serialized bytes', () => {
  const big = (n: number) =>
    new Tx(1, [new TxIn(outpoint(1), new Uint8Array(0))], [new TxOut(1n, new Uint8Array(n))], 0);
  // 4 version + 1 + 41 input + 1 + 8 value + varint(5 for n >= 65536) + n + 4 locktime
  const overhead = 4 + 1 + 41 + 1 + 8 + 5 + 4;
  const fits = big(MAX_TX_SIZE - overhead);
  assert.equal(fits.size, MAX_TX_SIZE);
  checkTransaction(fits);
  const e = assertReject(() => checkTransaction(big(MAX_TX_SIZE - overhead + 1)), 'bad-txns-oversize');
  assert.equal(e.category, 'consensus');
  assert.equal(e.dos, 100);
});

test('bad-txns-vout-negative / bad-txns-vout-toolarge / bad-txns-txouttotal-toolarge', () => {
  assertReject(() => checkTransaction(spend([outpoint(1)], [1n, -1n])), 'bad-txns-vout-negative');
  checkTransaction(spend([outpoint(1)], [MAX_MONEY]));
  checkTransaction(spend([outpoint(1)], [0n]));
  assertReject(() => checkTransaction(spend([outpoint(1)], [MAX_MONEY + 1n])), 'bad-txns-vout-toolarge');
  checkTransaction(spend([outpoint(1)], [MAX_MONEY - 1n, 1n]));
  assertReject(
    () => checkTransaction(spend([outpoint(1)], [MAX_MONEY - 1n, 2n])),
    'bad-txns-txouttotal-toolarge',
  );
});

test('bad-txns-inputs-duplicate', () => {
  assertReject(
    () => checkTransaction(spend([outpoint(1), outpoint(2), outpoint(1)], [1n])),
    'bad-txns-inputs-duplicate',
  );
  // Same txid, different index is fine.
  checkTransaction(spend([outpoint(1, 0), outpoint(1, 1)], [1n]));
});

test('bad-txns-inputs-duplicate at every pair of places, for few inputs and for many', () => {
  // A few inputs are compared in pairs, many through a set: both ways, every pair of places.
  fc.assert(
    fc.property(
      fc
        .integer({ min: 2, max: 20 })
        .chain((n) =>
          fc.tuple(fc.constant(n), fc.integer({ min: 0, max: n - 1 }), fc.integer({ min: 0, max: n - 1 })),
        ),
      ([n, a, b]) => {
        const ins = Array.from({ length: n }, (_, i) => outpoint(1, i));
        checkTransaction(spend(ins, [1n]));
        if (a === b) return;
        ins[b] = ins[a];
        assertReject(() => checkTransaction(spend(ins, [1n])), 'bad-txns-inputs-duplicate');
      },
    ),
  );
});

test('bad-cb-length: coinbase scriptSig must be 2..100 bytes', () => {
  assertReject(() => checkTransaction(coinbase(Uint8Array.of(1))), 'bad-cb-length');
  assertReject(() => checkTransaction(coinbase(new Uint8Array(0))), 'bad-cb-length');
  checkTransaction(coinbase(new Uint8Array(100)));
  assertReject(() => checkTransaction(coinbase(new Uint8Array(101))), 'bad-cb-length');
});

test('bad-txns-prevout-null in a non-coinbase', () => {
  const nullPrev = new OutPoint(NULL_HASH, 0xffffffff);
  assertReject(() => checkTransaction(spend([outpoint(1), nullPrev], [1n])), 'bad-txns-prevout-null');
  // A null hash with a real index is not a null prevout (Core checks both).
  checkTransaction(spend([new OutPoint(NULL_HASH, 0)], [1n]));
});

test('RejectError carries reason, category and message', () => {
  try {
    checkTransaction(spend([], [1n]));
    assert.fail('no throw');
  } catch (e) {
    assert.ok(e instanceof RejectError);
    assert.equal(e.reason, 'bad-txns-vin-empty');
    assert.equal(e.category, 'consensus');
    assert.equal(e.corruptionPossible, false);
    assert.ok(e instanceof Error);
  }
});

test('property: random transactions either pass or throw a RejectError, never anything else', () => {
  const op = fc.record({
    n: fc.integer({ min: 0, max: 3 }),
    i: fc.integer({ min: 0, max: 2 }),
    isNull: fc.boolean(),
  });
  const txArb = fc.record({
    ins: fc.array(fc.record({ op, script: fc.uint8Array({ maxLength: 120 }) }), { maxLength: 4 }),
    outs: fc.array(fc.bigInt({ min: -2n, max: MAX_MONEY + 2n }), { maxLength: 4 }),
  });
  fc.assert(
    fc.property(txArb, ({ ins, outs }) => {
      const tx = new Tx(
        1,
        ins.map(
          (x) =>
            new TxIn(x.op.isNull ? new OutPoint(NULL_HASH, 0xffffffff) : outpoint(x.op.n, x.op.i), x.script),
        ),
        outs.map((v) => new TxOut(v, new Uint8Array(0))),
        0,
      );
      try {
        checkTransaction(tx);
      } catch (e) {
        assert.ok(e instanceof RejectError);
        assert.equal(e.category, 'consensus');
      }
    }),
    { numRuns: 500 },
  );
});

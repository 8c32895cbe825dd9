// Mempool acceptance: one test per rejection reason (Bitcoin Core's strings), then eviction,
// reorg return, orphans and restart.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Mempool } from '../../src/mempool/mempool.js';
import { loadMempool, saveMempool } from '../../src/mempool/persist.js';
import { isRejectError } from '../../src/consensus/errors.js';
import { OutPoint, Tx, TxIn, TxOut } from '../../src/primitives/tx.js';
import { bytesToHex, concatBytes } from '../../src/primitives/bytes.js';
import { nullDataScript, multisigScript } from '../../src/script/standard.js';
import { FakeChain, Key, fund, spend } from './helpers.js';

const COIN = 100_000_000n;
const alice = Key.fromSeed(1);
const bob = Key.fromSeed(2);

function setup(opts: Partial<ConstructorParameters<typeof Mempool>[0]> = {}) {
  const chain = new FakeChain();
  const pool = new Mempool({
    chain,
    params: { coinbaseMaturity: 100, csvHeight: 0 },
    now: () => 1_700_000_000,
    ...opts,
  });
  return { chain, pool };
}

async function rejects(p: Promise<unknown>, reason: string, category?: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(isRejectError(e), `expected RejectError, got ${String(e)}`);
    assert.equal(e.reason, reason);
    if (category) assert.equal(e.category, category);
    return true;
  });
}

test('accepts a standard P2PKH spend and reports fee and size', async () => {
  const { chain, pool } = setup();
  const op = fund(chain, alice, 10n * COIN);
  const tx = spend([{ outpoint: op, key: alice }], [{ value: 10n * COIN - 10_000n, script: bob.script }]);
  const e = await pool.accept(tx);
  assert.equal(e.fee, 10_000n);
  assert.equal(pool.size, 1);
  assert.ok(pool.has(tx.txid()));
});

test('txn-already-in-mempool', async () => {
  const { chain, pool } = setup();
  const tx = spend(
    [{ outpoint: fund(chain, alice, COIN), key: alice }],
    [{ value: COIN - 1000n, script: bob.script }],
  );
  await pool.accept(tx);
  await rejects(pool.accept(tx), 'txn-already-in-mempool', 'policy');
});

test('insufficient fee: a conflicting transaction paying no more is refused (BIP125 rules 3, 4, 6)', async () => {
  const { chain, pool } = setup();
  const op = fund(chain, alice, COIN);
  const first = spend([{ outpoint: op, key: alice }], [{ value: COIN - 5000n, script: bob.script }]);
  await pool.accept(first);
  // Lower fee (rule 6 names the fee rates), equal fee (rule 4: nothing left for its own relay).
  const lower = spend([{ outpoint: op, key: alice }], [{ value: COIN - 1000n, script: alice.script }]);
  await rejects(pool.accept(lower), 'insufficient fee', 'policy');
  const equal = spend([{ outpoint: op, key: alice }], [{ value: COIN - 5000n, script: alice.script }]);
  await rejects(pool.accept(equal), 'insufficient fee', 'policy');
  assert.ok(pool.has(first.txid()));
});

test('full RBF: a higher-fee conflict replaces the original and its descendants, whatever their sequence', async () => {
  const { chain, pool } = setup();
  const op = fund(chain, alice, COIN);
  // Sequence final: no BIP125 signal, replaced all the same (Core's mempoolfullrbf).
  const first = spend(
    [{ outpoint: op, key: alice, sequence: 0xffffffff }],
    [{ value: COIN - 1000n, script: bob.script }],
  );
  await pool.accept(first);
  const child = spend(
    [{ outpoint: new OutPoint(first.txid(), 0), key: bob }],
    [{ value: COIN - 3000n, script: bob.script }],
  );
  await pool.accept(child);
  const removed: [string, string][] = [];
  pool.on('removed', (e: { txid: string }, why: string) => removed.push([e.txid, why]));
  // Must beat both fees (3,000) plus its own relay at 1 base unit per byte (~191 bytes).
  const tooLittle = spend([{ outpoint: op, key: alice }], [{ value: COIN - 3100n, script: alice.script }]);
  await rejects(pool.accept(tooLittle), 'insufficient fee', 'policy');
  const bump = spend([{ outpoint: op, key: alice }], [{ value: COIN - 4000n, script: alice.script }]);
  await pool.accept(bump);
  assert.equal(pool.size, 1);
  assert.ok(pool.has(bump.txid()));
  assert.deepEqual(
    removed.map(([, why]) => why),
    ['replaced', 'replaced'],
  );
  assert.deepEqual(
    new Set(removed.map(([id]) => id)),
    new Set([first, child].map((t) => bytesToHex(t.txid()))),
  );
});

test('replacement-adds-unconfirmed and bad-txns-spends-conflicting-tx', async () => {
  const { chain, pool } = setup();
  const op = fund(chain, alice, COIN);
  const other = fund(chain, bob, COIN);
  const first = spend([{ outpoint: op, key: alice }], [{ value: COIN - 1000n, script: alice.script }]);
  await pool.accept(first);
  const unrelated = spend([{ outpoint: other, key: bob }], [{ value: COIN - 1000n, script: bob.script }]);
  await pool.accept(unrelated);
  // Adds an input from a pool transaction the original did not spend from.
  const adds = spend(
    [
      { outpoint: op, key: alice },
      { outpoint: new OutPoint(unrelated.txid(), 0), key: bob },
    ],
    [{ value: 2n * COIN - 50_000n, script: alice.script }],
  );
  await rejects(pool.accept(adds), 'replacement-adds-unconfirmed', 'policy');
  // Spends the original's output while conflicting with it.
  const self = spend(
    [
      { outpoint: op, key: alice },
      { outpoint: new OutPoint(first.txid(), 0), key: alice },
    ],
    [{ value: 2n * COIN - 60_000n, script: bob.script }],
  );
  await rejects(pool.accept(self), 'bad-txns-spends-conflicting-tx', 'policy');
  assert.equal(pool.size, 2);
});

test('too many potential replacements: more than 100 evictions (Core MAX_REPLACEMENT_CANDIDATES)', async () => {
  const { chain, pool } = setup({ descendantLimit: 200, ancestorLimit: 200 });
  // 101 separate pool transactions, each spending one of 101 coins; one replacement spends them all.
  const ops = Array.from({ length: 101 }, () => fund(chain, alice, COIN / 100n));
  for (const op of ops)
    await pool.accept(
      spend([{ outpoint: op, key: alice }], [{ value: COIN / 100n - 1000n, script: bob.script }]),
    );
  const all = spend(
    ops.map((outpoint) => ({ outpoint, key: alice })),
    [{ value: (COIN / 100n) * 101n - COIN / 10n, script: alice.script }],
  );
  await rejects(pool.accept(all), 'too many potential replacements', 'policy');
  assert.equal(pool.size, 101);
});

test('two conflicting transactions of equal fee accepted at once: exactly one enters', async () => {
  const { chain, pool } = setup();
  const op = fund(chain, alice, COIN);
  const a = spend([{ outpoint: op, key: alice }], [{ value: COIN - 1000n, script: bob.script }]);
  const b = spend([{ outpoint: op, key: alice }], [{ value: COIN - 1000n, script: alice.script }]);
  // Both start before either has read its coins: the chain's read is where they used to interleave.
  const [ra, rb] = await Promise.allSettled([pool.accept(a), pool.accept(b)]);
  assert.equal(ra.status, 'fulfilled');
  assert.equal(rb.status, 'rejected');
  await rejects(Promise.reject(rb.reason as Error), 'insufficient fee', 'policy');
  assert.equal(pool.size, 1);
  assert.ok(pool.has(a.txid()));
});

test('a block connected while the coins are read: validation starts again on the new tip', async () => {
  const { chain, pool } = setup();
  const op = fund(chain, alice, COIN);
  const tx = spend([{ outpoint: op, key: alice }], [{ value: COIN - 1000n, script: bob.script }]);
  const read = chain.getCoins.bind(chain);
  let reads = 0;
  chain.getCoins = async (ops) => {
    const r = await read(ops);
    // The first read races a block that spends the coin elsewhere.
    if (reads++ === 0) {
      chain.coins.delete(op.key());
      chain.height++;
    }
    return r;
  };
  await rejects(pool.accept(tx), 'missing-inputs', 'policy');
  assert.equal(pool.size, 0);
  assert.equal(reads, 2);
});

test("missing-inputs keeps a peer's orphan that resolves when its parent arrives; none from RPC", async () => {
  const { chain, pool } = setup();
  const parent = spend(
    [{ outpoint: fund(chain, alice, COIN), key: alice }],
    [{ value: COIN - 1000n, script: bob.script }],
  );
  const child = spend(
    [{ outpoint: new OutPoint(parent.txid(), 0), key: bob }],
    [{ value: COIN - 2000n, script: alice.script }],
  );
  const grandchild = spend(
    [{ outpoint: new OutPoint(child.txid(), 0), key: alice }],
    [{ value: COIN - 3000n, script: bob.script }],
  );
  // As Core: a transaction without a sending peer (RPC) is refused and not kept.
  await rejects(pool.accept(child), 'missing-inputs', 'policy');
  assert.equal(pool.orphanCount, 0);
  await rejects(pool.accept(grandchild, { peer: 7 }), 'missing-inputs', 'policy');
  await rejects(pool.accept(child, { peer: 7 }), 'missing-inputs', 'policy');
  assert.equal(pool.orphanCount, 2);
  assert.deepEqual(
    pool.orphans().map((o) => [o.txid, [...o.from]]),
    [
      [bytesToHex(grandchild.txid()), [7]],
      [bytesToHex(child.txid()), [7]],
    ],
  );
  await pool.accept(parent);
  assert.ok(
    pool.has(child.txid()) && pool.has(grandchild.txid()),
    'orphans accepted after their parent, in turn',
  );
  assert.equal(pool.orphanCount, 0);
});

test('orphans: a peer that leaves takes its orphans; a block settles those it includes or conflicts with', async () => {
  const { chain, pool } = setup();
  const op = fund(chain, alice, COIN);
  const parent = spend([{ outpoint: op, key: alice }], [{ value: COIN - 1000n, script: bob.script }]);
  const childOf = (value: bigint) =>
    spend([{ outpoint: new OutPoint(parent.txid(), 0), key: bob }], [{ value, script: alice.script }]);
  const [a, b, c] = [childOf(COIN - 2000n), childOf(COIN - 3000n), childOf(COIN - 4000n)];
  for (const [tx, peer] of [
    [a, 1],
    [b, 2],
    [c, 2],
  ] as const)
    await rejects(pool.accept(tx, { peer }), 'missing-inputs');
  assert.equal(pool.erasePeerOrphans(2), 2);
  assert.equal(pool.orphanCount, 1);
  await rejects(pool.accept(b, { peer: 3 }), 'missing-inputs');
  // A block with the parent and `a`: `a` is included, `b` spends what `a` spends.
  pool.removeForBlock([parent, a]);
  assert.equal(pool.orphanCount, 0);
});

test('dust', async () => {
  const { chain, pool } = setup();
  const tx = spend(
    [{ outpoint: fund(chain, alice, COIN), key: alice }],
    [
      { value: 545n, script: bob.script },
      { value: COIN - 20_000n, script: alice.script },
    ],
  );
  await rejects(pool.accept(tx), 'dust', 'policy');
  const ok = spend(
    [{ outpoint: fund(chain, alice, COIN), key: alice }],
    [
      { value: 546n, script: bob.script },
      { value: COIN - 20_000n, script: alice.script },
    ],
  );
  await pool.accept(ok);
});

test('min relay fee not met', async () => {
  const { chain, pool } = setup();
  const tx = spend(
    [{ outpoint: fund(chain, alice, COIN), key: alice }],
    [{ value: COIN - 100n, script: bob.script }],
  );
  await rejects(pool.accept(tx), 'min relay fee not met', 'policy');
});

test('too-long-mempool-chain past 25 ancestors', async () => {
  const { chain, pool } = setup();
  let prev = fund(chain, alice, COIN);
  let value = COIN;
  for (let i = 0; i < 25; i++) {
    value -= 1000n;
    const tx = spend([{ outpoint: prev, key: alice }], [{ value, script: alice.script }]);
    await pool.accept(tx);
    prev = new OutPoint(tx.txid(), 0);
  }
  const tooLong = spend([{ outpoint: prev, key: alice }], [{ value: value - 1000n, script: alice.script }]);
  await rejects(pool.accept(tooLong), 'too-long-mempool-chain', 'policy');
});

test('scriptpubkey: non-standard output script and 4-of-4 bare multisig', async () => {
  const { chain, pool } = setup();
  const odd = spend(
    [{ outpoint: fund(chain, alice, COIN), key: alice }],
    [{ value: COIN - 1000n, script: Uint8Array.of(0x51, 0x87) }],
  );
  await rejects(pool.accept(odd), 'scriptpubkey', 'policy');
  const keys = [1, 2, 3, 4].map((n) => Key.fromSeed(n + 10).pub);
  const wide = spend(
    [{ outpoint: fund(chain, alice, COIN), key: alice }],
    [{ value: COIN - 1000n, script: multisigScript(1, keys) }],
  );
  await rejects(pool.accept(wide), 'scriptpubkey', 'policy');
});

test('multi-op-return and an oversized OP_RETURN', async () => {
  const { chain, pool } = setup();
  const two = spend(
    [{ outpoint: fund(chain, alice, COIN), key: alice }],
    [
      { value: 0n, script: nullDataScript(new Uint8Array(4)) },
      { value: 0n, script: nullDataScript(new Uint8Array(4)) },
      { value: COIN - 1000n, script: bob.script },
    ],
  );
  await rejects(pool.accept(two), 'multi-op-return', 'policy');
  const big = spend(
    [{ outpoint: fund(chain, alice, COIN), key: alice }],
    [
      { value: 0n, script: nullDataScript(new Uint8Array(81)) },
      { value: COIN - 1000n, script: bob.script },
    ],
  );
  await rejects(pool.accept(big), 'scriptpubkey', 'policy');
});

test('non-final: lock time in the future', async () => {
  const { chain, pool } = setup();
  const tx = spend(
    [{ outpoint: fund(chain, alice, COIN), key: alice, sequence: 0 }],
    [{ value: COIN - 1000n, script: bob.script }],
    {
      locktime: chain.height + 5,
    },
  );
  await rejects(pool.accept(tx), 'non-final', 'policy');
});

test('non-BIP68-final: relative lock not yet reached', async () => {
  const { chain, pool } = setup();
  const op = fund(chain, alice, COIN, { height: chain.height });
  const tx = spend(
    [{ outpoint: op, key: alice, sequence: 10 }],
    [{ value: COIN - 1000n, script: bob.script }],
  );
  await rejects(pool.accept(tx), 'non-BIP68-final', 'policy');
});

test('version and scriptsig-not-pushonly', async () => {
  const { chain, pool } = setup();
  const v3 = spend(
    [{ outpoint: fund(chain, alice, COIN), key: alice }],
    [{ value: COIN - 1000n, script: bob.script }],
    { version: 3 },
  );
  await rejects(pool.accept(v3), 'version', 'policy');
  const signed = spend(
    [{ outpoint: fund(chain, alice, COIN), key: alice }],
    [{ value: COIN - 1000n, script: bob.script }],
  );
  const notPush = new Tx(
    2,
    [
      new TxIn(
        signed.inputs[0].prevout,
        concatBytes(signed.inputs[0].scriptSig, Uint8Array.of(0x61)),
        0xffffffff,
      ),
    ],
    signed.outputs,
    0,
  );
  await rejects(pool.accept(notPush), 'scriptsig-not-pushonly', 'policy');
});

test('coinbase transactions and premature coinbase spends are invalid', async () => {
  const { chain, pool } = setup();
  const cb = new Tx(
    1,
    [new TxIn(new OutPoint(new Uint8Array(32), 0xffffffff), Uint8Array.of(1, 1))],
    [new TxOut(COIN, bob.script)],
    0,
  );
  await rejects(pool.accept(cb), 'coinbase', 'consensus');
  const young = fund(chain, alice, COIN, { height: chain.height - 50, coinbase: true });
  const tx = spend([{ outpoint: young, key: alice }], [{ value: COIN - 1000n, script: bob.script }]);
  await rejects(pool.accept(tx), 'bad-txns-premature-spend-of-coinbase', 'consensus');
  const mature = fund(chain, alice, COIN, { height: chain.height + 1 - 100, coinbase: true });
  await pool.accept(spend([{ outpoint: mature, key: alice }], [{ value: COIN - 1000n, script: bob.script }]));
});

test('bad-txns-in-belowout and a context-free failure are consensus rejections', async () => {
  const { chain, pool } = setup();
  const tx = spend(
    [{ outpoint: fund(chain, alice, COIN), key: alice }],
    [{ value: COIN + 1n, script: bob.script }],
  );
  await rejects(pool.accept(tx), 'bad-txns-in-belowout', 'consensus');
  const empty = new Tx(2, [], [new TxOut(1n, bob.script)], 0);
  await rejects(pool.accept(empty), 'bad-txns-vin-empty', 'consensus');
});

test('a wrong signature is a consensus failure; a policy-only script failure is not', async () => {
  const { chain, pool } = setup();
  const op = fund(chain, alice, COIN);
  const byBob = spend([{ outpoint: op, key: bob }], [{ value: COIN - 1000n, script: bob.script }]);
  // bob's pubkey does not hash to alice's script.
  await rejects(pool.accept(byBob), 'mandatory-script-verify-flag-failed (EQUALVERIFY)', 'consensus');
  const good = spend([{ outpoint: op, key: alice }], [{ value: COIN - 1000n, script: bob.script }]);
  // Re-encode the signature push with OP_PUSHDATA1: valid by consensus, not MINIMALDATA.
  const s = good.inputs[0].scriptSig;
  const sigLen = s[0];
  const nonMinimal = concatBytes(Uint8Array.of(0x4c, sigLen), s.subarray(1));
  const tx = new Tx(2, [new TxIn(op, nonMinimal)], good.outputs, 0);
  await rejects(pool.accept(tx), 'non-mandatory-script-verify-flag (MINIMALDATA)', 'policy');
});

test('testOnly checks without adding', async () => {
  const { chain, pool } = setup();
  const tx = spend(
    [{ outpoint: fund(chain, alice, COIN), key: alice }],
    [{ value: COIN - 1000n, script: bob.script }],
  );
  await pool.accept(tx, { testOnly: true });
  assert.equal(pool.size, 0);
});

test('eviction: a full pool drops the lowest fee-rate package and raises its floor', async () => {
  const { chain, pool } = setup({ maxBytes: 400 });
  const cheap = spend(
    [{ outpoint: fund(chain, alice, COIN), key: alice }],
    [{ value: COIN - 1000n, script: bob.script }],
  );
  const mid = spend(
    [{ outpoint: fund(chain, alice, COIN), key: alice }],
    [{ value: COIN - 5000n, script: bob.script }],
  );
  await pool.accept(cheap);
  await pool.accept(mid);
  const rich = spend(
    [{ outpoint: fund(chain, alice, COIN), key: alice }],
    [{ value: COIN - 50_000n, script: bob.script }],
  );
  await pool.accept(rich);
  assert.ok(pool.totalBytes <= 400);
  assert.ok(!pool.has(cheap.txid()), 'lowest fee rate evicted');
  assert.ok(pool.has(rich.txid()));
  assert.ok(pool.minFeeRate() > pool.minRelayFeeRate);
  const poor = spend(
    [{ outpoint: fund(chain, alice, COIN), key: alice }],
    [{ value: COIN - 1100n, script: bob.script }],
  );
  await rejects(pool.accept(poor), 'mempool min fee not met', 'policy');
});

test('a block removes what it confirms and what conflicts; a reorg brings them back', async () => {
  const { chain, pool } = setup();
  const op1 = fund(chain, alice, COIN);
  const op2 = fund(chain, alice, COIN);
  const a = spend([{ outpoint: op1, key: alice }], [{ value: COIN - 1000n, script: bob.script }]);
  const b = spend([{ outpoint: op2, key: alice }], [{ value: COIN - 1000n, script: bob.script }]);
  const child = spend(
    [{ outpoint: new OutPoint(b.txid(), 0), key: bob }],
    [{ value: COIN - 2000n, script: alice.script }],
  );
  await pool.accept(a);
  await pool.accept(b);
  await pool.accept(child);
  const rivalOfB = spend([{ outpoint: op2, key: alice }], [{ value: COIN - 3000n, script: alice.script }]);
  // The block confirms a and a rival of b: b and its child go as conflicts.
  pool.removeForBlock([a, rivalOfB]);
  assert.equal(pool.size, 0);
  // The chain applies the block: op1, op2 spent; their outputs exist.
  chain.coins.delete(op1.key());
  chain.coins.delete(op2.key());
  // Reorg: the block is disconnected (coins restored) and its transactions return.
  chain.coins.set(op1.key(), { value: COIN, script: alice.script, height: 100, coinbase: false });
  chain.coins.set(op2.key(), { value: COIN, script: alice.script, height: 100, coinbase: false });
  await pool.reorganize([a, rivalOfB]);
  assert.ok(pool.has(a.txid()));
  assert.ok(pool.has(rivalOfB.txid()));
  assert.equal(pool.size, 2);
});

test('restart: the pool is saved and loaded again', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tally-mempool-'));
  try {
    const { chain, pool } = setup();
    const tx = spend(
      [{ outpoint: fund(chain, alice, COIN), key: alice }],
      [{ value: COIN - 1000n, script: bob.script }],
    );
    const child = spend(
      [{ outpoint: new OutPoint(tx.txid(), 0), key: bob }],
      [{ value: COIN - 2000n, script: alice.script }],
    );
    await pool.accept(tx);
    await pool.accept(child);
    assert.equal(await saveMempool(pool, join(dir, 'mempool.dat')), 2);
    const again = new Mempool({ chain, params: { coinbaseMaturity: 100, csvHeight: 0 } });
    assert.deepEqual(await loadMempool(again, join(dir, 'mempool.dat')), {
      loaded: 2,
      failed: 0,
      alreadyThere: 0,
      deltas: 0,
    });
    assert.ok(again.has(child.txid()));
    assert.equal(again.get(tx.txid())?.time, 1_700_000_000);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// Block templates: package fee-rate order (Core's addPackageTxs), size and sigop budgets, skipping
// non-final transactions, the coinbase (BIP34 height, extra-nonce, subsidy + fees) and a solved
// assembled block that the chain connects.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkProofOfWork } from '../../src/consensus/pow.js';
import { coinbaseHeightScript } from '../../src/consensus/coinbase.js';
import { blockSubsidy } from '../../src/consensus/subsidy.js';
import type { MempoolEntry } from '../../src/mempool/mempool.js';
import { Block, BlockHeader } from '../../src/primitives/block.js';
import { equalBytes } from '../../src/primitives/bytes.js';
import type { Tx } from '../../src/primitives/tx.js';
import {
  COINBASE_RESERVED_BYTES,
  COINBASE_RESERVED_SIGOPS,
  assembleBlock,
  coinbaseTx,
  createTemplate,
} from '../../src/mining/template.js';
import { fixture, params } from './helpers.js';

function solve(b: Block): Block {
  let h = b.header;
  while (!checkProofOfWork(h.hash(), h.bits, params))
    h = new BlockHeader(h.version, h.prevHash, h.merkleRoot, h.time, h.bits, h.nonce + 1);
  return new Block(h, b.txs);
}

test('packages by ancestor fee rate, within size and sigop limits; the block connects', async () => {
  const f = await fixture(3);
  try {
    const { builder: b, mempool, chain } = f;
    // A low-fee parent whose child pays a lot, and a medium-fee transaction on its own.
    const parent = b.spend([f.coins[0]], { fee: 200n });
    const child = b.spend([b.out(parent)], { fee: 20_000n });
    const medium = b.spend([f.coins[1]], { fee: 5_000n });
    for (const tx of [parent, child, medium]) await mempool.accept(tx);
    const src = { chain, mempool, params };
    const t = createTemplate(src, { now: 1 });
    assert.deepEqual(
      t.txs.map((x) => x.txid),
      [parent, child, medium].map((x) => x.txidHex()),
    );
    assert.deepEqual(
      t.txs.map((x) => x.depends),
      [[], [1], []],
    );
    assert.deepEqual(
      t.txs.map((x) => x.fee),
      [200n, 20_000n, 5_000n],
    );
    assert.equal(t.height, chain.height + 1);
    assert.ok(equalBytes(t.prevHash, chain.tip.hash));
    assert.equal(t.bits, params.powLimitBits);
    assert.equal(t.mintime, chain.medianTimePast() + 1);
    assert.equal(t.curtime, t.mintime); // now = 1 is long before MTP
    assert.ok(t.version >= 4);
    assert.equal(t.coinbaseValue, blockSubsidy(t.height, params) + 25_200n);
    assert.equal(
      t.size,
      [parent, child, medium].reduce((n, x) => n + x.size, 0),
    );
    assert.equal(t.sigops, 3); // one OP_CHECKSIG in each P2PKH output

    // Room for the package only: the medium transaction, though richer than the parent, waits.
    const pkgSize = parent.size + child.size;
    const small = createTemplate(src, { maxBlockSize: 80 + 5 + COINBASE_RESERVED_BYTES + pkgSize + 50 });
    assert.deepEqual(
      small.txs.map((x) => x.txid),
      [parent.txidHex(), child.txidHex()],
    );
    const fewSigops = createTemplate(src, { maxSigops: COINBASE_RESERVED_SIGOPS + 1 });
    assert.deepEqual(
      fewSigops.txs.map((x) => x.txid),
      [medium.txidHex()],
    );

    // Coinbase: BIP34 height first, then the extra-nonce; the solved block connects.
    const cb = coinbaseTx(t, b.script, 0x1234567890n, new TextEncoder().encode('/tally/'));
    const sig = cb.inputs[0].scriptSig;
    const hs = coinbaseHeightScript(t.height);
    assert.deepEqual(sig.subarray(0, hs.length), hs);
    assert.deepEqual([...sig.subarray(hs.length, hs.length + 6)], [5, 0x90, 0x78, 0x56, 0x34, 0x12]);
    assert.equal(cb.outputs[0].value, t.coinbaseValue);
    assert.notDeepEqual(coinbaseTx(t, b.script, 1).txid(), coinbaseTx(t, b.script, 2).txid());
    assert.throws(() => coinbaseTx(t, b.script, 0, new Uint8Array(99)), RangeError);

    const block = solve(assembleBlock(t, b.script, 7, t.curtime));
    assert.equal(block.txs.length, 4);
    const res = await chain.processBlock(block);
    assert.ok(res.accepted, res.reason);
    assert.equal(chain.tip.hashHex, block.hashHex());
    assert.equal(mempool.size, 0);
    // The next template, on the new tip, is empty and pays the subsidy only.
    const next = createTemplate(src);
    assert.equal(next.txs.length, 0);
    assert.equal(next.coinbaseValue, blockSubsidy(next.height, params));
    assert.ok(next.curtime >= next.mintime);
  } finally {
    await f.close();
  }
});

test('a non-final transaction and its descendants stay out; a re-ranked child still goes in', async () => {
  const f = await fixture(3);
  try {
    const { builder: b, chain } = f;
    const height = chain.height + 1;
    const locked = b.spend([f.coins[0]], { fee: 50_000n, locktime: height + 5, sequence: 0 });
    const lockedChild = b.spend([b.out(locked)], { fee: 90_000n });
    const a = b.spend([f.coins[1]], {
      fee: 1_000n,
      outputs: [10n * 100_000_000n, 30n * 100_000_000n - 1_000n],
    });
    const a1 = b.spend([b.out(a, 0)], { fee: 30_000n });
    const a2 = b.spend([b.out(a, 1)], { fee: 3_000n });
    const entry = (tx: Tx, fee: bigint): MempoolEntry => ({
      tx,
      txid: Buffer.from(tx.txid()).toString('hex'),
      fee,
      size: tx.size,
      time: 0,
      height: 0,
      sigops: 1,
    });
    const entries = [
      entry(locked, 50_000n),
      entry(lockedChild, 90_000n),
      entry(a, 1_000n),
      entry(a1, 30_000n),
      entry(a2, 3_000n),
    ];
    const byId = new Map(entries.map((e) => [e.txid, e]));
    const parentsOf: Record<string, string[]> = {
      [entries[1].txid]: [entries[0].txid],
      [entries[3].txid]: [entries[2].txid],
      [entries[4].txid]: [entries[2].txid],
    };
    const mempool = {
      all: () => entries,
      ancestors: (e: MempoolEntry) => new Map((parentsOf[e.txid] ?? []).map((id) => [id, byId.get(id)!])),
      modifiedFee: (e: MempoolEntry) => e.fee,
    };
    const t = createTemplate({ chain, mempool, params });
    // a1's package (a + a1) wins; then a2 alone, its parent already in.
    assert.deepEqual(
      t.txs.map((x) => x.txid),
      [a, a1, a2].map((x) => x.txidHex()),
    );
    assert.deepEqual(
      t.txs.map((x) => x.depends),
      [[], [1], [1]],
    );
    const block = solve(assembleBlock(t, b.script, 0, t.curtime));
    const res = await chain.processBlock(block);
    assert.ok(res.accepted, res.reason);
  } finally {
    await f.close();
  }
});

// Chain-level scenarios on regtest, one per reject reason plus reorgs, limits and maturity (after
// btcd's fullblocktests and Bitcoin Core's feature_block.py). Every step asserts the verdict, the
// tip and the UTXO digest: a rejected block changes nothing. Every block that builds on the tip
// is also checked as a BIP23 proposal, which must give the chain's verdict.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { getParams } from '../../src/consensus/params.js';
import { Chain, type UtxoDigest } from '../../src/chain/chain.js';
import { LevelChainStore } from '../../src/storage/level-store.js';
import { Block } from '../../src/primitives/block.js';
import { concatBytes, equalBytes } from '../../src/primitives/bytes.js';
import { checkProposal } from '../../src/mining/proposal.js';
import { NULL_HASH, OutPoint, Tx, TxIn, TxOut } from '../../src/primitives/tx.js';
import { Builder, withTx, type BlockOptions, type Spendable } from './builder.js';
import { FAR_FUTURE, openChain, removeDir, tempDir } from './helpers.js';

const params = getParams('regtest');
const COIN = 100_000_000n;

describe('regtest block scenarios', () => {
  const b = new Builder(params);
  const dir = tempDir();
  let chain: Chain;
  let tip: Block;
  /** Mature coinbase outputs not yet used by an accepted block. */
  const mature: Spendable[] = [];

  const take = (): Spendable => mature.shift()!;

  async function digest(): Promise<UtxoDigest> {
    return chain.utxoDigest();
  }

  /**
   * The verdict of the same block as a BIP23 proposal (the one connectBlock, run without storing)
   * when it builds on the tip; proposals skip proof of work, as Core's TestBlockValidity does.
   */
  async function proposal(blk: Block): Promise<string | null> {
    if (!equalBytes(blk.header.prevHash, chain.tip.hash)) return 'not-on-tip';
    return checkProposal(chain, blk, FAR_FUTURE());
  }

  async function accept(blk: Block): Promise<void> {
    const p = await proposal(blk);
    if (p !== 'not-on-tip') assert.equal(p, null, `proposal of ${blk.hashHex()}`);
    const r = await chain.processBlock(blk);
    assert.ok(r.accepted, `expected ${blk.hashHex()} accepted, got ${r.reason} ${r.error?.debug ?? ''}`);
    assert.equal(chain.tip.hashHex, blk.hashHex());
    tip = blk;
  }

  /** Rejected with `reason`; tip and UTXO set unchanged. */
  async function reject(blk: Block, reason: string | RegExp): Promise<void> {
    const before = await digest();
    const p = await proposal(blk);
    const r = await chain.processBlock(blk);
    assert.equal(r.accepted, false, `expected rejection ${reason}`);
    // Proposals and the chain give the same verdict (an unsolved proposal is not high-hash).
    if (p !== 'not-on-tip') assert.equal(p, r.reason === 'high-hash' ? null : r.reason, 'proposal verdict');
    if (typeof reason === 'string') assert.equal(r.reason, reason, r.error?.message);
    else assert.match(r.reason!, reason);
    assert.equal(chain.tip.hashHex, tip.hashHex());
    assert.deepEqual(await digest(), before);
  }

  const next = (opts: BlockOptions = {}): Block => b.block(tip, opts);

  before(async () => {
    chain = await openChain(dir, params, { dbcacheMB: 1 });
    const base = b.chain(b.genesis, 120);
    for (const blk of base) await accept(blk);
    // Coinbases of heights 1..20 are mature for a block at height >= 121.
    for (const blk of base.slice(0, 20)) mature.push(b.cbOut(blk));
  });

  after(async () => {
    await chain.close();
    removeDir(dir);
  });

  // ---- context-free transaction rules (CheckTransaction inside CheckBlock) ----

  test('bad-txns-vin-empty', async () => {
    await reject(next({ txs: [new Tx(1, [], [new TxOut(1n, b.script)], 0)] }), 'bad-txns-vin-empty');
  });

  test('bad-txns-vout-empty', async () => {
    await reject(next({ txs: [withTx(b.spend([mature[0]]), { outputs: [] })] }), 'bad-txns-vout-empty');
  });

  test('bad-txns-vout-negative', async () => {
    await reject(next({ txs: [b.spend([mature[0]], { outputs: [-1n] })] }), 'bad-txns-vout-negative');
  });

  test('bad-txns-vout-toolarge', async () => {
    await reject(
      next({ txs: [b.spend([mature[0]], { outputs: [21_000_001n * COIN] })] }),
      'bad-txns-vout-toolarge',
    );
  });

  test('bad-txns-txouttotal-toolarge', async () => {
    const tx = b.spend([mature[0]], { outputs: [20_000_000n * COIN, 20_000_000n * COIN] });
    await reject(next({ txs: [tx] }), 'bad-txns-txouttotal-toolarge');
  });

  test('bad-txns-inputs-duplicate', async () => {
    await reject(next({ txs: [b.spend([mature[0], mature[0]])] }), 'bad-txns-inputs-duplicate');
  });

  test('bad-txns-prevout-null', async () => {
    const tx = withTx(b.spend([mature[0]]), {
      inputs: [
        new TxIn(new OutPoint(NULL_HASH, 0xffffffff), Uint8Array.of(1, 1)),
        new TxIn(mature[0].outpoint, Uint8Array.of()),
      ],
    });
    await reject(next({ txs: [tx] }), 'bad-txns-prevout-null');
  });

  test('bad-cb-length', async () => {
    await reject(
      next({
        munge: (d) =>
          (d.txs[0] = withTx(d.txs[0], {
            inputs: [new TxIn(d.txs[0].inputs[0].prevout, Uint8Array.of(0x51))],
          })),
      }),
      'bad-cb-length',
    );
  });

  // ---- block structure ----

  test('bad-cb-missing', async () => {
    await reject(next({ munge: (d) => (d.txs = [b.spend([mature[0]])]) }), 'bad-cb-missing');
  });

  test('bad-cb-multiple', async () => {
    await reject(next({ munge: (d) => d.txs.push(b.coinbase(121, 1n, 77)) }), 'bad-cb-multiple');
  });

  test('bad-cb-height (BIP34)', async () => {
    await reject(next({ munge: (d) => (d.txs[0] = b.coinbase(999, 50n * COIN, 1)) }), 'bad-cb-height');
  });

  test('bad-cb-amount', async () => {
    await reject(next({ fees: 1n }), 'bad-cb-amount');
    // Fees may be claimed, but not a base unit more.
    const tx = b.spend([mature[0]], { fee: 1000n });
    await reject(next({ txs: [tx], fees: 1001n }), 'bad-cb-amount');
  });

  test('bad-txnmrklroot: not marked invalid, the honest block is accepted afterwards', async () => {
    const honest = next();
    const twin = new Block(honest.header, [b.coinbase(121, 50n * COIN, 9)]);
    assert.equal(twin.hashHex(), honest.hashHex());
    await reject(twin, 'bad-txnmrklroot');
    assert.equal(chain.getEntry(honest.hash())?.isFailed() ?? false, false);
    await accept(honest);
  });

  test('bad-txns-duplicate: a CVE-2012-2459 twin does not poison the honest block', async () => {
    const t1 = b.spend([take()]);
    const t2 = b.spend([take()]);
    const honest = next({ txs: [t1, t2] });
    // [cb, t1, t2] and [cb, t1, t2, t2] have the same merkle root.
    const twin = new Block(honest.header, [...honest.txs, t2]);
    assert.equal(twin.merkle().root.toString(), honest.header.merkleRoot.toString());
    await reject(twin, 'bad-txns-duplicate');
    await accept(honest);
    assert.equal((await chain.processBlock(honest)).isNew, false);
  });

  test('high-hash', async () => {
    await reject(next({ unsolved: true }), 'high-hash');
  });

  test('bad-diffbits', async () => {
    // A harder target than required still has valid proof of work but the wrong bits.
    await reject(next({ munge: (d) => (d.bits = 0x2007ffff) }), 'bad-diffbits');
  });

  test('time-too-old', async () => {
    await reject(next({ time: chain.medianTimePast() }), 'time-too-old');
  });

  test('time-too-new: not marked invalid, accepted once the clock catches up', async () => {
    const dir2 = tempDir();
    try {
      const now = { t: params.genesis.header.time + 1000 };
      const c2 = await openChain(dir2, params, { now: () => now.t });
      const blk = b.block(b.genesis, { time: now.t + 2 * 3600 + 1 });
      assert.equal((await c2.processBlock(blk)).reason, 'time-too-new');
      now.t += 2;
      assert.equal((await c2.processBlock(blk)).accepted, true);
      await c2.close();
    } finally {
      removeDir(dir2);
    }
  });

  test('bad-version', async () => {
    await reject(next({ munge: (d) => (d.version = 3) }), /^bad-version/);
  });

  test('bad-prevblk: a child of an invalid block', async () => {
    const bad = next({ fees: 5n });
    await reject(bad, 'bad-cb-amount');
    await reject(b.block(bad), 'bad-prevblk');
  });

  test('bad-blk-length: a block of exactly 1,000,000 bytes is accepted, one more byte is not', async () => {
    const s = mature[0];
    const padded = (size: number): Block => {
      let len = 990_000;
      // The signature's length varies by a byte or two with the signed data, so each round pads
      // with other bytes until one lands exactly.
      for (let round = 0; round < 100; round++) {
        const pad = new TxOut(0n, concatBytes(Uint8Array.of(0x6a), new Uint8Array(len).fill(round)));
        const blk = next({ txs: [b.spend([s], { extraOutputs: [pad] })], tag: 500 });
        if (blk.size === size) return blk;
        len += size - blk.size;
      }
      throw new Error(`could not build a block of ${size} bytes`);
    };
    await reject(padded(params.maxBlockSize + 1), 'bad-blk-length');
    const exact = padded(params.maxBlockSize);
    assert.equal(exact.size, params.maxBlockSize);
    await accept(exact);
    take();
  });

  test('bad-blk-sigops: exactly the limit is accepted, one more is not', async () => {
    const s = mature[0];
    // The coinbase and the spend's own output pay to P2PKH (one sigop each); the rest are
    // OP_CHECKSIGs in two outputs nobody can spend.
    const withSigops = (n: number): Block => {
      const half = Math.floor((n - 2) / 2);
      const outs = [half, n - 2 - half].map((k) => new TxOut(0n, new Uint8Array(k).fill(0xac)));
      return next({ txs: [b.spend([s], { extraOutputs: outs })] });
    };
    await reject(withSigops(params.maxBlockSigops + 1), 'bad-blk-sigops');
    await accept(withSigops(params.maxBlockSigops));
    take();
  });

  // ---- rules against the UTXO set ----

  test('bad-txns-inputs-missingorspent', async () => {
    const ghost: Spendable = {
      outpoint: new OutPoint(new Uint8Array(32).fill(7), 0),
      value: COIN,
      script: b.script,
    };
    await reject(next({ txs: [b.spend([ghost])] }), 'bad-txns-inputs-missingorspent');
  });

  test('bad-txns-in-belowout', async () => {
    const s = mature[0];
    await reject(next({ txs: [b.spend([s], { outputs: [s.value + 1n] })] }), 'bad-txns-in-belowout');
  });

  test('spending an output created earlier in the same block; a double spend inside it fails', async () => {
    const t1 = b.spend([take()], { outputs: [10n * COIN, 40n * COIN] });
    const t2 = b.spend([b.out(t1, 1)], { fee: COIN });
    const dbl = b.spend([b.out(t1, 1)], { fee: 2n * COIN });
    await reject(next({ txs: [t1, t2, dbl], fees: 3n * COIN }), 'bad-txns-inputs-missingorspent');
    await reject(next({ txs: [t2, t1], fees: COIN }), 'bad-txns-inputs-missingorspent');
    // The same transaction twice, not adjacent (so the merkle tree is not mutated): Core checks
    // BIP30 against the coins before the block, so the second copy is a double spend.
    await reject(next({ txs: [t1, t2, t1], fees: COIN }), 'bad-txns-inputs-missingorspent');
    await accept(next({ txs: [t1, t2], fees: COIN }));
    assert.equal((await chain.getCoin(b.out(t2).outpoint))?.value, 39n * COIN);
    assert.equal(await chain.getCoin(b.out(t1, 1).outpoint), undefined);
  });

  test('bad-txns-premature-spend-of-coinbase: spendable at exactly 100 confirmations', async () => {
    const h = chain.height;
    const young = b.cbOut((await chain.getBlock(chain.getBlockHashAtHeight(h - 98)!))!);
    // The next block is at h + 1: a coinbase from h - 98 has depth 99 there.
    await reject(next({ txs: [b.spend([young])] }), 'bad-txns-premature-spend-of-coinbase');
    const ripe = b.cbOut((await chain.getBlock(chain.getBlockHashAtHeight(h - 99)!))!);
    await accept(next({ txs: [b.spend([ripe])] }));
  });

  test('bad-txns-nonfinal: a height lock time one block too far', async () => {
    const s = mature[0];
    const h = chain.height + 1;
    const locked = b.spend([s], { locktime: h, sequence: 0 });
    await reject(next({ txs: [locked] }), 'bad-txns-nonfinal');
    const relLocked = b.spend([s], { version: 2, sequence: 200 });
    await reject(next({ txs: [relLocked] }), 'bad-txns-nonfinal');
    await accept(next({ txs: [b.spend([take()], { locktime: h - 1, sequence: 0 })] }));
  });

  test('mandatory-script-verify-flag-failed: a signature for other outputs', async () => {
    const s = mature[0];
    const good = b.spend([s], { outputs: [s.value - 1n] });
    const forged = new Tx(good.version, good.inputs, [new TxOut(s.value - 2n, b.script)], 0);
    await reject(next({ txs: [forged], fees: 2n }), /^mandatory-script-verify-flag-failed \(/);
  });

  // ---- reorgs ----

  test('reorg to a longer chain and back; a double spend across the reorg', async () => {
    const fork = tip;
    const s = take();
    const payA = b.spend([s], { outputs: [s.value - COIN], fee: COIN });
    const a1 = b.block(fork, { txs: [payA], fees: COIN });
    await accept(a1);
    const digestA = await digest();
    // Branch B spends the same coin differently and becomes longer.
    const payB = b.spend([s], { outputs: [s.value - 2n * COIN], fee: 2n * COIN });
    const b1 = b.block(fork, { txs: [payB], fees: 2n * COIN });
    const b2 = b.block(b1);
    assert.equal((await chain.processBlock(b1)).accepted, true);
    assert.equal(chain.tip.hashHex, a1.hashHex());
    await accept(b2);
    assert.equal(await chain.getCoin(b.out(payA).outpoint), undefined);
    assert.equal((await chain.getCoin(b.out(payB).outpoint))?.value, s.value - 2n * COIN);
    // payA conflicts with payB on this branch.
    await reject(next({ txs: [payA], fees: COIN }), 'bad-txns-inputs-missingorspent');
    // Back to branch A.
    const a2 = b.block(a1);
    const a3 = b.block(a2);
    await chain.processBlock(a2);
    assert.equal(chain.tip.hashHex, b2.hashHex());
    await accept(a3);
    assert.equal((await chain.getCoin(b.out(payA).outpoint))?.value, s.value - COIN);
    assert.equal(await chain.getCoin(b.out(payB).outpoint), undefined);
    assert.notEqual((await digest()).hash, digestA.hash);
  });

  test('bad-txns-BIP30 (a network where BIP34 is not yet active)', async () => {
    const p30 = { ...params, bip34Height: 1_000_000 };
    const b30 = new Builder(p30);
    const dir2 = tempDir();
    try {
      const c = await openChain(dir2, p30);
      const x1 = b30.block(b30.genesis, { tag: 1 });
      assert.equal((await c.processBlock(x1)).accepted, true);
      // Same coinbase (same height push and tag) at another height: the same txid.
      const x2 = b30.block(x1, { munge: (d) => (d.txs[0] = x1.txs[0]) });
      const before = await c.utxoDigest();
      assert.equal(await checkProposal(c, x2, FAR_FUTURE()), 'bad-txns-BIP30');
      const r = await c.processBlock(x2);
      assert.equal(r.reason, 'bad-txns-BIP30');
      assert.equal(c.tip.hashHex, x1.hashHex());
      assert.deepEqual(await c.utxoDigest(), before);
      await c.close();
    } finally {
      removeDir(dir2);
    }
  });

  test("BIP34 implies BIP30 (Core's BIP34Hash): a repeated transaction is a double spend, its outputs never read", async () => {
    // As Tally main and test (genesis.json's bip34Hash): BIP34 since the block after genesis.
    const p34 = { ...params, bip34Hash: params.genesis.hashHex() };
    const b34 = new Builder(p34);
    for (const [p, reason] of [
      [p34, 'bad-txns-inputs-missingorspent'],
      [params, 'bad-txns-BIP30'],
    ] as const) {
      const dir2 = tempDir();
      try {
        const store = await LevelChainStore.open(dir2);
        const read = new Set<string>();
        const getCoins = store.getCoins.bind(store);
        store.getCoins = (ops) => {
          for (const op of ops) read.add(op.key());
          return getCoins(ops);
        };
        const c = await Chain.open({ store, params: p, verifyThreads: 0, now: FAR_FUTURE });
        const base = b34.chain(b34.genesis, 101);
        for (const blk of base) assert.equal((await c.processBlock(blk)).accepted, true);
        const t = b34.spend([b34.cbOut(base[0])]);
        const x1 = b34.block(base[100], { txs: [t] });
        assert.equal((await c.processBlock(x1)).accepted, true);
        // t again, its outputs unspent: BIP30 where it is read, else t's input is spent.
        const x2 = b34.block(x1, { txs: [t] });
        read.clear();
        const before = await c.utxoDigest();
        assert.equal(await checkProposal(c, x2, FAR_FUTURE()), reason);
        assert.equal((await c.processBlock(x2)).reason, reason);
        assert.equal(c.tip.hashHex, x1.hashHex());
        assert.deepEqual(await c.utxoDigest(), before);
        const outputsRead = x2.txs.some((tx) => tx.outputs.some((_, i) => read.has(tx.outpoint(i).key())));
        assert.equal(outputsRead, p === params, "the block's outputs are read only where BIP30 applies");
        await c.close();
      } finally {
        removeDir(dir2);
      }
    }
  });

  test('a 1,000-block reorg', { timeout: 120_000 }, async () => {
    const fork = tip;
    const a = b.chain(fork, 1000, (i) => ({ tag: 10_000 + i }));
    for (const blk of a) assert.ok((await chain.processBlock(blk)).accepted);
    assert.equal(chain.tip.hashHex, a[999].hashHex());
    const longer = b.chain(fork, 1001, (i) => ({ tag: 20_000 + i }));
    for (const blk of longer.slice(0, 1000)) assert.ok((await chain.processBlock(blk)).accepted);
    assert.equal(chain.tip.hashHex, a[999].hashHex());
    let disconnected = 0;
    const count = (): void => void disconnected++;
    chain.on('disconnect', count);
    await accept(longer[1000]);
    chain.off('disconnect', count);
    assert.equal(disconnected, 1000);
    assert.equal(chain.height, b.heightOf(longer[1000]));
  });
});

// The p2p chain adapter's download list: blocks of the best header chain the node lacks, lowest
// first, including those below the active tip when the best headers fork off lower down; and the
// template adapter's BIP23 proposals sharing the pool's signature cache.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getParams } from '../../src/consensus/params.js';
import {
  ibdTracker,
  mempoolChainAdapter,
  p2pChainAdapter,
  templateAdapter,
} from '../../src/node/adapters.js';
import { Mempool } from '../../src/mempool/mempool.js';
import { assembleBlock } from '../../src/mining/template.js';
import { SigCache } from '../../src/script/sigcache.js';
import { fixture } from '../mining/helpers.js';
import { blockWork } from '../../src/consensus/pow.js';
import { Builder } from '../chain/builder.js';
import { openChain, removeDir, tempDir } from '../chain/helpers.js';

const params = getParams('regtest');

test('blocksToDownload lists a heavier fork from its first block, below the active tip', async () => {
  const dir = tempDir();
  const chain = await openChain(dir, params);
  try {
    const b = new Builder(params);
    for (const blk of b.chain(params.genesis, 5)) assert.ok((await chain.processBlock(blk)).accepted);
    const fork = b.chain(params.genesis, 8, (i) => ({ tag: 100 + i }));
    assert.equal((await chain.processHeaders(fork.map((x) => x.header))).error, undefined);
    const p2p = p2pChainAdapter(chain, () => false);
    const want = p2p.blocksToDownload(100).map((w) => w.height);
    assert.deepEqual(want, [1, 2, 3, 4, 5, 6, 7, 8]);

    // As blocks arrive the list shrinks from the bottom, then the fork becomes the active chain.
    for (const blk of fork.slice(0, 3)) assert.ok((await chain.processBlock(blk)).accepted);
    assert.deepEqual(
      p2p.blocksToDownload(2).map((w) => w.height),
      [4, 5],
    );
    for (const blk of fork.slice(3)) assert.ok((await chain.processBlock(blk)).accepted);
    assert.equal(chain.tip.hashHex, fork[7].hashHex());
    assert.deepEqual(p2p.blocksToDownload(100), []);
  } finally {
    await chain.close();
    removeDir(dir);
  }
});

test('blocksToDownload skips what is already active while catching up on a straight chain', async () => {
  const dir = tempDir();
  const chain = await openChain(dir, params);
  try {
    const b = new Builder(params);
    const blocks = b.chain(params.genesis, 10);
    assert.equal((await chain.processHeaders(blocks.map((x) => x.header))).error, undefined);
    const p2p = p2pChainAdapter(chain, () => false);
    assert.equal(p2p.blocksToDownload(100).length, 10);
    for (const blk of blocks.slice(0, 6)) assert.ok((await chain.processBlock(blk)).accepted);
    assert.deepEqual(
      p2p.blocksToDownload(100).map((w) => w.height),
      [7, 8, 9, 10],
    );
  } finally {
    await chain.close();
    removeDir(dir);
  }
});

test('minimum chain work: a weaker header chain is flagged and the node counts as catching up below it', async () => {
  const dir = tempDir();
  const b = new Builder(params);
  const blocks = b.chain(params.genesis, 5);
  // Work of genesis plus three blocks: heights 0..2 are below it, 3 and up are not.
  const minimumChainWork = blockWork(params.genesis.header.bits) * 4n;
  const chain = await openChain(dir, { ...params, minimumChainWork });
  try {
    assert.equal((await chain.processHeaders(blocks.map((x) => x.header))).error, undefined);
    const ibd = ibdTracker(chain, { now: () => blocks[4].header.time });
    const p2p = p2pChainAdapter(chain, ibd);
    assert.equal(p2p.belowMinimumWork!(blocks[1].hash()), true);
    assert.equal(p2p.belowMinimumWork!(blocks[2].hash()), false);
    assert.equal(ibd(), true, 'the tip (genesis) is below the minimum');
    for (const blk of blocks) assert.ok((await chain.processBlock(blk)).accepted);
    assert.equal(ibd(), false);
  } finally {
    await chain.close();
    removeDir(dir);
  }
});

test("anti-DoS work threshold: the minimum chain work, or the tip's work less 144 blocks; header links checked alone", async () => {
  const dir = tempDir();
  const b = new Builder(params);
  const blocks = b.chain(params.genesis, 150);
  const w = blockWork(params.powLimitBits);
  const chain = await openChain(dir, params);
  try {
    const p2p = p2pChainAdapter(chain, () => false, undefined, w * 10n);
    assert.equal(p2p.antiDoSWorkThreshold(), w * 10n, 'genesis tip: the minimum');
    for (const blk of blocks) assert.ok((await chain.processBlock(blk)).accepted);
    // Tip at 150 (151 blocks of work) less 144: 7 blocks, under the minimum of 10.
    assert.equal(p2p.antiDoSWorkThreshold(), w * 10n);
    assert.equal(p2pChainAdapter(chain, () => false, undefined, 0n).antiDoSWorkThreshold(), w * 7n);
    const s = p2p.headerSummary(blocks[149].hash())!;
    assert.deepEqual([s.height, s.chainWork], [150, w * 151n]);
    const prev = { height: 150, time: s.time, bits: s.bits };
    const next = b.chain(blocks[149], 1)[0].header;
    assert.equal(p2p.checkHeaderLink(prev, next), undefined);
    assert.equal(p2p.checkHeaderLink({ ...prev, bits: 0 }, next), undefined, 'regtest: always the limit');
  } finally {
    await chain.close();
    removeDir(dir);
  }
});

test("getblocktemplate's proposal check reuses the pool's signature cache: no pool signature is verified again", async () => {
  const f = await fixture(2);
  try {
    const sigCache = new SigCache();
    const mempool = new Mempool({ chain: mempoolChainAdapter(f.chain), params, sigCache });
    const b = f.builder;
    const parent = b.spend([f.coins[0]], { fee: 1_000n });
    const child = b.spend([b.out(parent), f.coins[1]], { fee: 2_000n });
    for (const tx of [parent, child]) await mempool.accept(tx);
    assert.equal(mempool.sigCache, sigCache);
    const templates = templateAdapter(f.chain, mempool);
    const t = templates.create(f.chain.medianTimePast() + 1);
    assert.equal(t.txs.length, 2);
    const misses = sigCache.misses;
    const hits = sigCache.hits;
    assert.equal(await templates.checkProposal(assembleBlock(t, b.script, 0, t.curtime), t.curtime), null);
    assert.equal(sigCache.misses, misses, 'a signature was verified again');
    assert.equal(sigCache.hits - hits, 3, 'each of the three inputs found in the cache');
  } finally {
    await f.close();
  }
});

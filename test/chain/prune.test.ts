import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { getParams } from '../../src/consensus/params.js';
import { Chain } from '../../src/chain/chain.js';
import { MIN_BLOCKS_TO_KEEP, pruneAfterHeight } from '../../src/chain/prune.js';
import { LevelChainStore } from '../../src/storage/level-store.js';
import { Builder } from './builder.js';
import { FAR_FUTURE, removeDir, tempDir } from './helpers.js';

const params = getParams('regtest');

async function open(dir: string, pruneTargetBytes: number, pruneAfterHeight?: number): Promise<Chain> {
  const store = await LevelChainStore.open(dir, { maxBlockFileSize: 4096 });
  return Chain.open({ store, params, verifyThreads: 0, now: FAR_FUTURE, pruneTargetBytes, pruneAfterHeight });
}

const blkFiles = (dir: string) =>
  readdirSync(join(dir, 'blocks'))
    .filter((f) => f.startsWith('blk'))
    .sort();

test('manual and automatic pruning delete whole old files, keep 288 blocks, and survive a restart', async () => {
  const b = new Builder(params);
  const blocks = b.chain(b.genesis, 410);
  const dir = tempDir();
  try {
    let c = await open(dir, 0);
    for (const blk of blocks.slice(0, 330)) assert.ok((await c.processBlock(blk)).accepted);
    assert.deepEqual(c.pruneMode, { automatic: false });
    assert.equal(c.pruneHeight(), null);
    const before = blkFiles(dir).length;
    // Manual: nothing above 330 - 288 = 42 goes, however high the height asked.
    const h = await c.pruneBlockchain(1000);
    assert.ok(h !== null && h > 0 && h <= 330 - MIN_BLOCKS_TO_KEEP, String(h));
    assert.ok(blkFiles(dir).length < before && !blkFiles(dir).includes('blk00000.dat'));
    const gone = c.getEntryAtHeight(1)!;
    assert.ok(gone.isPruned() && !gone.hasData());
    assert.equal(await c.getBlock(gone.hash), undefined);
    assert.ok(await c.getBlock(c.getEntryAtHeight(h + 1)!.hash));
    const digest = await c.utxoDigest();
    await c.close();

    // A restart finds the same tip and prune height, and goes on connecting; automatic pruning
    // with a tiny target waits for regtest's PruneAfterHeight (1,000, Core's) ...
    assert.equal(pruneAfterHeight('regtest'), 1_000);
    c = await open(dir, 1);
    assert.equal(c.pruneHeight(), h);
    assert.deepEqual(await c.utxoDigest(), digest);
    for (const blk of blocks.slice(330, 400)) assert.ok((await c.processBlock(blk)).accepted);
    assert.equal(c.pruneHeight(), h);
    await c.close();
    // ... and past it prunes whatever is more than 288 blocks deep.
    c = await open(dir, 1, 100);
    for (const blk of blocks.slice(400)) assert.ok((await c.processBlock(blk)).accepted);
    assert.equal(c.height, 410);
    const auto = c.pruneHeight()!;
    assert.ok(auto > h && auto <= 410 - MIN_BLOCKS_TO_KEEP, String(auto));
    for (let i = auto + 1; i <= 410; i++) assert.ok(c.getEntryAtHeight(i)!.hasData(), `block ${i} kept`);
    await c.close();
  } finally {
    removeDir(dir);
  }
});

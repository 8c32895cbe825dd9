// Indexes and pruning (index/base.ts, chain/prune.ts): an index still catching up holds a prune
// lock (Core's m_prune_locks), so pruneblockchain keeps every block within PRUNE_LOCK_BUFFER of the
// index's best block and above it, and prunes further once the index has caught up; an index whose
// next blocks are already pruned is refused at init with Core's line, and writes nothing; an index
// that stops with an error releases its lock (Core: a failed index stops and its lock goes).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { getParams } from '../../src/consensus/params.js';
import { Chain } from '../../src/chain/chain.js';
import { MIN_BLOCKS_TO_KEEP, PRUNE_LOCK_BUFFER } from '../../src/chain/prune.js';
import { LevelChainStore } from '../../src/storage/level-store.js';
import { BaseIndex, openIndex, type Put } from '../../src/index/base.js';
import type { IndexBlockRef } from '../../src/index/ports.js';
import type { Block } from '../../src/primitives/block.js';
import { indexChainAdapter } from '../../src/node/adapters.js';
import { Builder } from '../chain/builder.js';
import { FAR_FUTURE, removeDir, tempDir } from '../chain/helpers.js';
import { waitFor } from '../integration/cluster.js';

const params = getParams('regtest');
const GATE = 60;
let release: () => void = () => undefined;
const gate = new Promise<void>((r) => (release = r));

/** Indexes one key per block; stops at block GATE until the gate opens. */
class SlowIndex extends BaseIndex {
  readonly name = 'slowindex';
  protected readonly needsUndo = true;
  protected async blockPuts(_block: Block, ref: IndexBlockRef): Promise<Put[]> {
    if (ref.height === GATE) await gate;
    return [[Uint8Array.of(1, ref.height & 0xff), Uint8Array.of(1)]];
  }
}

test('a catching-up index keeps its blocks from pruning; a new index on pruned blocks is refused', async () => {
  const dir = tempDir();
  const blocks = new Builder(params).chain(new Builder(params).genesis, 400);
  const store = await LevelChainStore.open(dir, { maxBlockFileSize: 4096 });
  const chain = await Chain.open({ store, params, verifyThreads: 0, now: FAR_FUTURE, pruneTargetBytes: 0 });
  try {
    for (const b of blocks) assert.ok((await chain.processBlock(b)).accepted);
    const index = await openIndex(SlowIndex, join(dir, 'slow'), indexChainAdapter(chain));
    await index.start();
    await waitFor(() => index.info().best_block_height === GATE - 1, 10_000, 'index at the gate');

    // Without the lock pruneblockchain would go up to 400 - 288 = 112.
    const lockLimit = GATE - 1 - PRUNE_LOCK_BUFFER - 1;
    const locked = await chain.pruneBlockchain(1000);
    assert.ok(locked !== null && locked > 0 && locked <= lockLimit, `pruned to ${locked}`);
    for (let h = lockLimit + 1; h <= 400; h++) assert.ok(chain.getEntryAtHeight(h)!.hasData(), `block ${h}`);

    release();
    await waitFor(() => index.info().synced, 10_000, 'index synced');
    const after = await chain.pruneBlockchain(1000);
    assert.ok(after !== null && after > lockLimit && after <= 400 - MIN_BLOCKS_TO_KEEP, `pruned to ${after}`);
    await index.close();

    // A new index would need block 0 onwards: refused in Core's words, its database left empty.
    const fresh = await openIndex(SlowIndex, join(dir, 'fresh'), indexChainAdapter(chain));
    await assert.rejects(
      fresh.start(),
      new Error(
        'slowindex best block of the index goes beyond pruned data. Please disable the index or reindex (which will download the whole blockchain again)',
      ),
    );
    await fresh.close();
    const again = await openIndex(SlowIndex, join(dir, 'fresh'), indexChainAdapter(chain));
    await assert.rejects(again.init(), /goes beyond pruned data/);
    await again.close();
    // The index that followed the chain still starts.
    const synced = await openIndex(SlowIndex, join(dir, 'slow'), indexChainAdapter(chain));
    await synced.init();
    assert.equal(synced.info().best_block_height, 400);
    await synced.close();
  } finally {
    await chain.close();
    removeDir(dir);
  }
});

/** Fails at block GATE (as a block it cannot read or a write that fails would). */
class FailingIndex extends BaseIndex {
  readonly name = 'failindex';
  protected readonly needsUndo = false;
  protected blockPuts(_block: Block, ref: IndexBlockRef): Promise<Put[]> {
    if (ref.height === GATE) return Promise.reject(new Error('index write failed'));
    return Promise.resolve([[Uint8Array.of(2, ref.height & 0xff), Uint8Array.of(1)]]);
  }
}

test('an index that fails releases its prune lock: pruning goes on to 288 below the tip', async () => {
  const dir = tempDir();
  const blocks = new Builder(params).chain(new Builder(params).genesis, 400);
  const store = await LevelChainStore.open(dir, { maxBlockFileSize: 4096 });
  const chain = await Chain.open({ store, params, verifyThreads: 0, now: FAR_FUTURE, pruneTargetBytes: 0 });
  const failures: unknown[] = [];
  try {
    for (const b of blocks) assert.ok((await chain.processBlock(b)).accepted);
    const index = await openIndex(
      FailingIndex,
      join(dir, 'failing'),
      indexChainAdapter(chain),
      undefined,
      (e) => failures.push(e),
    );
    // Locked at its best block (0) from init on: nothing can be pruned yet.
    await index.init();
    assert.equal(await chain.pruneBlockchain(1000), null);
    await index.start();
    await waitFor(() => failures.length === 1, 10_000, 'index failed');
    await index.whenIdle();
    assert.equal(index.info().best_block_height, GATE - 1);
    assert.equal(index.info().synced, false);
    // With the lock held the prune height could not pass GATE - 1 - PRUNE_LOCK_BUFFER - 1.
    const pruned = await chain.pruneBlockchain(1000);
    assert.ok(pruned !== null && pruned > GATE - 1 - PRUNE_LOCK_BUFFER - 1, `pruned to ${pruned}`);
    assert.ok(pruned <= 400 - MIN_BLOCKS_TO_KEEP, `pruned to ${pruned}`);
    assert.ok(!chain.getEntryAtHeight(GATE)!.hasData(), 'the failed index no longer keeps its next block');
    await index.close();
  } finally {
    await chain.close();
    removeDir(dir);
  }
});

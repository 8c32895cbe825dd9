// The optional indexes' failure path (index/base.ts): a write that fails stops the index, which
// getindexinfo shows as not synced, and tells onFailure (where the node stops for a full disk),
// naming the index's folder; the index keeps the last block it finished.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BaseIndex, openIndex, type Put } from '../../src/index/base.js';
import type { IndexBlockRef, IndexChain } from '../../src/index/ports.js';
import type { Block } from '../../src/primitives/block.js';
import { buildChain } from '../p2p/fake-chain.js';

const blocks = buildChain(5);
const refs: IndexBlockRef[] = blocks.map((b, height) => ({ hash: b.hash(), height }));
const chain: IndexChain = {
  tip: () => refs[refs.length - 1],
  atHeight: (h) => refs[h],
  isActive: () => true,
  parent: () => undefined,
  getBlock: async (hash) => blocks.find((b) => Buffer.compare(b.hash(), hash) === 0),
  getUndo: async () => undefined,
  pruneHeight: () => null,
  setPruneLock: () => undefined,
  removePruneLock: () => undefined,
  onTip: () => () => undefined,
};

/** Indexes blocks 0..2; the write of block 3 fails as LevelDB does on a full disk. */
class FullAtThree extends BaseIndex {
  readonly name = 'test';
  protected readonly needsUndo = false;
  protected async blockPuts(_block: Block, ref: IndexBlockRef): Promise<Put[]> {
    if (ref.height === 3) throw new Error('IO error: /x/000005.log: No space left on device');
    return [[Uint8Array.of(1, ref.height), Uint8Array.of(1)]];
  }
}

test('an index whose write fails stops at its last block and tells onFailure with its folder', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tally-index-'));
  try {
    const told: [string, string][] = [];
    const index = await openIndex(FullAtThree, join(dir, 'test'), chain, undefined, (err, d) =>
      told.push([(err as Error).message, d]),
    );
    await index.start();
    await index.whenIdle();
    assert.deepEqual(told, [['IO error: /x/000005.log: No space left on device', join(dir, 'test')]]);
    assert.deepEqual(index.info(), { synced: false, best_block_height: 2 });
    await index.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Needs undo data: records the heights it indexed with undo data in hand. */
class NeedsUndo extends BaseIndex {
  readonly name = 'undo test';
  protected readonly needsUndo = true;
  readonly withUndo: number[] = [];
  protected async blockPuts(_block: Block, ref: IndexBlockRef, undo: unknown): Promise<Put[]> {
    if (ref.height === 0) return [];
    if (undo === undefined) throw new Error(`undo data of block ${ref.height} is missing`);
    this.withUndo.push(ref.height);
    return [[Uint8Array.of(2, ref.height), Uint8Array.of(1)]];
  }
}

test('an index waits for the undo data of a block whose connect is still being written', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tally-index-'));
  try {
    // Block 4 is active but its undo data lands only on the third read (the chain's batch in flight).
    let reads4 = 0;
    const slow: IndexChain = {
      ...chain,
      getUndo: async (hash) => {
        const h = refs.findIndex((r) => Buffer.compare(r.hash, hash) === 0);
        if (h === 4 && ++reads4 < 3) return undefined;
        return [];
      },
    };
    const failures: string[] = [];
    const index = await openIndex(NeedsUndo, join(dir, 'undo'), slow, undefined, (err) =>
      failures.push((err as Error).message),
    );
    await index.start();
    await index.whenIdle();
    assert.deepEqual(failures, []);
    assert.deepEqual(index.withUndo, [1, 2, 3, 4]);
    assert.equal(reads4, 3);
    await index.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

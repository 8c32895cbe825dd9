// The `bitcoin` preset validates real mainnet blocks 1..255 (btcd's blocks1-256.dat: frames of
// magic u32 LE, length u32 LE, raw block) from the genesis block, with full script checks on the
// worker pool, and ends on block 255. Block 170 holds the first P2P payment (spending block 9's
// coinbase), so a script failure anywhere would stop the chain there.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getParams } from '../../src/consensus/params.js';
import { Block } from '../../src/primitives/block.js';
import { readVector } from '../vectors.js';
import { readFrames } from '../integration/crash-child.js';
import { openChain, removeDir, tempDir } from './helpers.js';

test(
  'bitcoin preset: mainnet blocks 1..255 connect from genesis with full validation',
  { timeout: 60_000 },
  async () => {
    const params = getParams('bitcoin');
    const frames = readFrames(readVector('btcd', 'blocks1-256.dat'));
    assert.equal(frames.length, 255);
    const blocks = frames.map((f) => Block.decode(f));
    const dir = tempDir();
    try {
      const chain = await openChain(dir, params, {
        verifyThreads: 2,
        now: () => Math.floor(Date.now() / 1000),
      });
      let scriptJobs = 0;
      chain.on('connect', (e) => (scriptJobs += e.block.txs.length - 1));
      for (const b of blocks) {
        const r = await chain.processBlock(b);
        assert.ok(r.accepted, `${b.hashHex()}: ${r.reason}`);
      }
      assert.equal(chain.height, 255);
      assert.equal(chain.tip.hashHex, blocks[254].hashHex());
      assert.equal(scriptJobs, 7);
      assert.equal(
        chain.getBlockHashAtHeight(170) && chain.getEntryAtHeight(170)!.hashHex,
        '00000000d1145790a8694403d4063f323d499e655c83426834d4ce2f8dd4a2ee',
      );
      const d = await chain.utxoDigest();
      // 255 coinbases of 50 BTC; the 7 payments move coins without fees.
      assert.equal(d.totalAmount, 255n * 50n * 100_000_000n);
      // 255 coinbase outputs, plus the payments' 12 outputs less the 7 coins they spent. The hash
      // is Core's hash_serialized_3 (chain/coin-stats.ts), pinned so a change to it is noticed.
      assert.equal(d.count, 260);
      assert.equal(d.hash, '507108bd18e2319f0a7102cfa1c7ffea10c9b1a47ff061d8098bc51a92e40241');
      await chain.close();
    } finally {
      removeDir(dir);
    }
  },
);

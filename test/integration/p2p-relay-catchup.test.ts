// The relay gap of issue 12, against real `tally node` processes: a transaction sent while a peer
// is still catching up reaches that peer once it has caught up. The peer ignores the
// announcement during initial block download (as Core), and the sender marks it known, so
// nothing would announce it again; leaving initial download, the peer asks for the pool.
// Deterministic: Q is held in initial download by minimumchainwork until P's chain passes it, and
// P announces the transaction to Q before the blocks that release Q (one ordered socket).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { getParams } from '../../src/consensus/params.js';
import { bytesToHex } from '../../src/primitives/bytes.js';
import { Builder } from '../chain/builder.js';
import { startNode, stopAll, waitFor, type TallyProcess } from './cluster.js';

after(stopAll);

interface ChainInfo {
  blocks: number;
  chainwork: string;
  initialblockdownload: boolean;
}

async function peerCount(n: TallyProcess): Promise<number> {
  return (await n.rpc<unknown[]>('getpeerinfo')).length;
}

test(
  'a transaction sent while a peer catches up reaches it once it has caught up',
  { timeout: 120_000 },
  async () => {
    const b = new Builder(getParams('regtest'));
    const now = Math.floor(Date.now() / 1000);
    // 101 blocks a minute apart ending a few minutes ago: coinbase 1 is mature; 10 more after.
    const main = b.chain(b.genesis, 101, (i) => ({ time: now - 6300 + i * 60 }));
    const more = b.chain(main[100], 10, (i) => ({ time: now - 200 + i * 10 }));
    const tx = b.spend([b.cbOut(main[0])], { fee: 10_000n });

    const p = await startNode();
    for (const blk of main) assert.equal(await p.rpc('submitblock', [bytesToHex(blk.encode())]), null);
    const pInfo = await p.rpc<ChainInfo>('getblockchaininfo');
    assert.equal(pInfo.initialblockdownload, false);
    // Q follows no chain with less work than P's tip and 3 blocks more: it stays in initial download.
    const minWork = BigInt('0x' + pInfo.chainwork) + 6n;
    const q = await startNode({ args: ['--connect', p.p2pUrl, '--minimumchainwork', minWork.toString(16)] });
    await waitFor(
      async () => (await peerCount(p)) === 1 && (await peerCount(q)) === 1,
      20_000,
      'P and Q peers',
    );
    assert.equal((await q.rpc<ChainInfo>('getblockchaininfo')).initialblockdownload, true);

    const txid = await p.rpc<string>('sendrawtransaction', [bytesToHex(tx.encode())]);
    // Blocks without the transaction: P's chain passes Q's minimum work and Q catches up.
    for (const blk of more) assert.equal(await p.rpc('submitblock', [bytesToHex(blk.encode())]), null);
    await waitFor(
      async () => (await q.rpc<ChainInfo>('getblockchaininfo')).blocks === 111,
      30_000,
      () => `Q to catch up\n${q.output.slice(-2000)}`,
    );
    assert.equal((await q.rpc<ChainInfo>('getblockchaininfo')).initialblockdownload, false);
    await waitFor(
      async () => (await q.rpc<string[]>('getrawmempool')).includes(txid),
      20_000,
      () => `tx ${txid} at Q (it was announced while Q caught up)\n${q.output.slice(-2000)}`,
    );
    assert.deepEqual(await p.rpc<string[]>('getrawmempool'), [txid]);
  },
);

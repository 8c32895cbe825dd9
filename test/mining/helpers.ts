// Shared set-up for mining tests: a regtest chain on a temporary LevelDB with mature coins to
// spend, and a mempool following it (as the node wires them: blocks remove what they confirm).
import type { Chain } from '../../src/chain/chain.js';
import { getParams } from '../../src/consensus/params.js';
import { Mempool } from '../../src/mempool/mempool.js';
import { mempoolChainAdapter } from '../../src/node/adapters.js';
import type { BlockProducer } from '../../src/mining/producer.js';
import type { Block } from '../../src/primitives/block.js';
import type { Tx } from '../../src/primitives/tx.js';
import { Builder, type Spendable } from '../chain/builder.js';
import { openChain, removeDir, tempDir } from '../chain/helpers.js';

export const params = getParams('regtest');

export interface Fixture {
  dir: string;
  chain: Chain;
  mempool: Mempool;
  builder: Builder;
  blocks: Block[];
  /** Mature coinbase outputs of the test key, oldest first. */
  coins: Spendable[];
  close(): Promise<void>;
}

export function mempoolFor(chain: Chain): Mempool {
  const mempool = new Mempool({
    chain: mempoolChainAdapter(chain),
    params,
  });
  chain.on('connect', (e) => mempool.removeForBlock(e.block.txs));
  return mempool;
}

/** A regtest chain of `mature` + coinbaseMaturity blocks: the first `mature` coinbases are spendable. */
export async function fixture(mature = 4): Promise<Fixture> {
  const dir = tempDir();
  const chain = await openChain(dir, params);
  const builder = new Builder(params);
  const blocks = builder.chain(builder.genesis, mature + params.coinbaseMaturity, () => ({ timeDelta: 1 }));
  for (const b of blocks) {
    const res = await chain.processBlock(b);
    if (!res.accepted) throw new Error(`fixture block rejected: ${res.reason}`);
  }
  const mempool = mempoolFor(chain);
  return {
    dir,
    chain,
    mempool,
    builder,
    blocks,
    coins: blocks.slice(0, mature).map((b) => builder.cbOut(b)),
    close: async () => {
      await chain.close();
      removeDir(dir);
    },
  };
}

/**
 * A pool transaction mined into a block that is then invalidated, with the pool's rebuild under
 * way as node/ starts it on the new tip (not awaited): the pool is partly empty until `refilled`.
 */
export async function reorgUnderWay(
  f: Fixture,
  producer: BlockProducer,
): Promise<{ tx: Tx; refilled: Promise<number> }> {
  const tx = f.builder.spend([f.coins[0]], { fee: 1_000n });
  await f.mempool.accept(tx);
  const [mined] = await producer.mineBlocks(1, f.builder.script);
  if (f.mempool.size !== 0) throw new Error('the block did not take the transaction');
  await f.chain.invalidateBlock(mined);
  return { tx, refilled: f.mempool.reorganize([tx]) };
}

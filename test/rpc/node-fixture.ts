// A regtest node for RPC method tests: a real Chain on LevelDB in a temp dir built with the block
// builder, a real Mempool on it, wallets, a fee estimator, and an RpcServer with the chain and
// raw-transaction methods registered (and gettxoutsetinfo, without coinstatsindex). State after open():
//   heights 1..101 coinbase only; 102 spends block 1's coinbase (fee 10,000) into 40 coins minus
//   the fee to the builder key and 10 coins to wallet "w1"; 103 coinbase only (the tip); a sibling
//   of 103 (a second branch tip); the pool holds `parent` (spends block 2's coinbase, fee 10,000)
//   and `child` (spends parent:0, fee 20,000).
import { join } from 'node:path';
import { Chain } from '../../src/chain/chain.js';
import { getParams } from '../../src/consensus/params.js';
import { FeeEstimator } from '../../src/mempool/fee-estimator.js';
import { Mempool } from '../../src/mempool/mempool.js';
import { mempoolChainAdapter } from '../../src/node/adapters.js';
import { addressToScript } from '../../src/primitives/address.js';
import type { Block } from '../../src/primitives/block.js';
import { Tx, TxOut } from '../../src/primitives/tx.js';
import { registerChainMethods } from '../../src/rpc/chain-methods.js';
import { registerUtxoMethods } from '../../src/rpc/utxo-methods.js';
import { mempoolRejectToRpc, registerRawTxMethods } from '../../src/rpc/rawtx-methods.js';
import { RpcServer } from '../../src/rpc/server.js';
import { stringifyJson } from '../../src/rpc/json.js';
import { WalletManager } from '../../src/wallet/manager.js';
import { Builder } from '../chain/builder.js';
import { openChain, removeDir, tempDir } from '../chain/helpers.js';

export const COIN = 100_000_000n;
export const params = getParams('regtest');

export interface NodeFixture {
  dir: string;
  chain: Chain;
  mempool: Mempool;
  builder: Builder;
  /** blocks[h] is the active block at height h (0 = genesis). */
  blocks: Block[];
  sibling: Block;
  spendTx: Tx;
  parent: Tx;
  child: Tx;
  walletAddress: string;
  wallets: WalletManager;
  feeEstimator: FeeEstimator;
  server: RpcServer;
  /** Calls a method in-process and returns the result as a client would parse it. */
  rpc(method: string, p?: unknown[] | Record<string, unknown>, uri?: string): Promise<unknown>;
  close(): Promise<void>;
}

export async function openNodeFixture(): Promise<NodeFixture> {
  const dir = tempDir();
  const chain = await openChain(join(dir, 'chain'), params);
  const builder = new Builder(params);
  const wallets = new WalletManager({
    dir: join(dir, 'wallets'),
    network: 'regtest',
    prefixes: params.prefixes,
    coinbaseMaturity: params.coinbaseMaturity,
  });
  await wallets.create('w1');
  await wallets.create('locked', { passphrase: 'pw', scrypt: { N: 1024, r: 8, p: 1 } });
  const walletAddress = wallets.get('w1').getNewAddress();

  const blocks: Block[] = [params.genesis];
  const connect = async (b: Block) => {
    const res = await chain.processBlock(b);
    if (!res.accepted) throw new Error(`fixture block rejected: ${res.reason}`);
  };
  for (const b of builder.chain(params.genesis, 101)) {
    await connect(b);
    blocks.push(b);
  }
  const spendTx = builder.spend([builder.cbOut(blocks[1])], {
    outputs: [40n * COIN - 10_000n],
    extraOutputs: [new TxOut(10n * COIN, addressToScript(walletAddress, params.prefixes))],
  });
  const b102 = builder.block(blocks[101], { txs: [spendTx], fees: 10_000n });
  await connect(b102);
  blocks.push(b102);
  const b103 = builder.block(b102);
  await connect(b103);
  blocks.push(b103);
  const sibling = builder.block(b102, { tag: 999 });
  await chain.processBlock(sibling);

  const mempool = new Mempool({
    chain: mempoolChainAdapter(chain),
    params: { coinbaseMaturity: params.coinbaseMaturity, csvHeight: params.csvHeight },
  });
  const parent = builder.spend([builder.cbOut(blocks[2])], { fee: 10_000n });
  await mempool.accept(parent);
  const child = builder.spend([builder.out(parent, 0)], { fee: 20_000n });
  await mempool.accept(child);

  const feeEstimator = new FeeEstimator();
  const server = new RpcServer({ port: 0, auth: { cookieDir: dir }, authFailDelayMs: 1 });
  registerChainMethods(server, {
    chain,
    mempool,
    params,
    feeEstimator,
    syncProgress: () => ({
      headers: chain.bestHeader.height,
      blocks: chain.height,
      syncing: false,
      fraction: 1,
    }),
    isInitialBlockDownload: () => false,
    datadir: dir,
  });
  registerUtxoMethods(server, {
    chain,
    prefixes: params.prefixes,
    datadir: dir,
    networkMagic: params.magic,
    chainstateDir: join(dir, 'chain'),
  });
  registerRawTxMethods(server, {
    chain,
    mempool,
    params,
    wallets,
    broadcast: async (tx) => {
      try {
        await mempool.accept(tx);
      } catch (e) {
        throw mempoolRejectToRpc(e);
      }
    },
  });
  return {
    dir,
    chain,
    mempool,
    builder,
    blocks,
    sibling,
    spendTx,
    parent,
    child,
    walletAddress,
    wallets,
    feeEstimator,
    server,
    rpc: async (method, p = [], uri = '/') => JSON.parse(stringifyJson(await server.call(method, p, uri))),
    close: async () => {
      await server.stop();
      wallets.close();
      await chain.close();
      removeDir(dir);
    },
  };
}

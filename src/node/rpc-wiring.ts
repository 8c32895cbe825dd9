// The RPC method groups the node serves, registered on its server with the narrow view of the
// node each needs. Split from node.ts (TallyNode.registerMethods).
import { access } from 'node:fs/promises';
import { loadMempool, saveMempool } from '../mempool/persist.js';
import { hashFromHex } from '../primitives/bytes.js';
import { registerWalletMethods } from '../rpc/wallet-methods.js';
import { registerMiningMethods } from '../rpc/mining-methods.js';
import { registerChainMethods } from '../rpc/chain-methods.js';
import { registerNetMethods } from '../rpc/net-methods.js';
import { registerInterfaceMethods } from '../rpc/interface-methods.js';
import { registerNodeMethods } from '../rpc/node-methods.js';
import { registerUtxoMethods } from '../rpc/utxo-methods.js';
import { registerControlMethods } from '../rpc/control-methods.js';
import { registerRawTxMethods } from '../rpc/rawtx-methods.js';
import { registerTxOutProofMethods } from '../rpc/txoutproof-methods.js';
import { registerDescriptorMethods } from '../rpc/descriptor-methods.js';
import { netAdapter, subscribeHooks, templateAdapter } from './adapters.js';
import { dataLayout, type TallyNode } from './node.js';

/** Default fee rate for wallet sends when nothing better is known: 10 base units per byte. */
const DEFAULT_WALLET_FEE_RATE_PER_KB = 10_000n;

/** Registers every RPC method group on the node's server, each given the narrow view it needs. */
export function registerMethods(node: TallyNode): void {
  registerChainMethods(node.rpc, {
    chain: node.chain,
    mempool: node.mempool,
    params: node.params,
    feeEstimator: node.feeEstimator,
    syncProgress: () => node.p2p.progress(),
    isInitialBlockDownload: node.isInitialBlockDownload,
    datadir: node.config.networkDir,
    pruneTargetSize: node.config.prune > 1 ? node.config.prune * 1024 * 1024 : undefined,
  });
  registerNetMethods(node.rpc, { p2p: netAdapter(node.p2p), params: node.params, mempool: node.mempool });
  const { txIndex, filterIndex, addrIndex, coinStatsIndex } = node.indexes;
  registerUtxoMethods(node.rpc, {
    chain: node.chain,
    prefixes: node.params.prefixes,
    datadir: node.config.networkDir,
    networkMagic: node.params.magic,
    chainstateDir: dataLayout(node.config.networkDir).chainstate,
    coinStats: coinStatsIndex ?? undefined,
  });
  registerInterfaceMethods(node.rpc, {
    zmqNotifications: () => node.zmq?.notifications() ?? [],
    indexes: () =>
      Object.fromEntries(
        [txIndex, filterIndex, addrIndex, coinStatsIndex]
          .filter((i) => i !== null)
          .map((i) => [i.name, i.info()]),
      ),
    hasBlock: (hash) => node.chain.getEntry(hash) !== undefined,
    basicFilter: filterIndex ? (hash) => filterIndex.get(hash) : undefined,
  });
  const txIndexBlock = txIndex ? (txid: Uint8Array) => txIndex.blockOf(txid) : undefined;
  registerRawTxMethods(node.rpc, {
    chain: node.chain,
    mempool: node.mempool,
    params: node.params,
    wallets: node.wallets,
    broadcast: (tx) => node.broadcast(tx),
    refused: (tx, e) => node.refused(tx, e),
    txIndexBlock,
  });
  registerTxOutProofMethods(node.rpc, { chain: node.chain, txIndexBlock });
  registerDescriptorMethods(node.rpc, { prefixes: node.params.prefixes });
  const miningHooks = registerMiningMethods(node.rpc, {
    chain: node.chain,
    mempool: node.mempool,
    params: node.params,
    producer: node.producer,
    templates: templateAdapter(node.chain, node.mempool),
    connectionCount: () => {
      const c = node.p2p.connectionCount();
      return c.inbound + c.outbound;
    },
    isInitialBlockDownload: node.isInitialBlockDownload,
  });
  node.unsubscribe.push(subscribeHooks(node.chain, miningHooks));
  const mempoolFile = dataLayout(node.config.networkDir).mempool;
  const nodeHooks = registerNodeMethods(node.rpc, {
    chain: node.chain,
    mempool: node.mempool,
    params: node.params,
    syncProgress: () => node.p2p.progress(),
    isInitialBlockDownload: node.isInitialBlockDownload,
    coinsCacheBytes: () => node.chain.cacheBytes,
    saveMempool: async () => {
      await saveMempool(node.mempool, mempoolFile);
      return mempoolFile;
    },
    importMempool: async (path, opts) => {
      await access(path); // loadMempool reads a missing file as an empty pool; importing one is an error
      const r = await loadMempool(node.mempool, path, opts);
      node.log.info({ file: path, ...r }, 'mempool imported');
    },
  });
  node.unsubscribe.push(subscribeHooks(node.chain, nodeHooks));
  registerControlMethods(node.rpc, {
    chain: node.chain,
    mempool: node.mempool,
    logging: node.logging,
    p2p: netAdapter(node.p2p),
  });
  registerWalletMethods(node.rpc, {
    wallets: node.wallets,
    mempoolSpender: (outpoint) => node.mempool.spender(outpoint)?.tx.txidHex(),
    mempoolOutput: (outpoint) => node.mempool.get(outpoint.hash)?.tx.outputs[outpoint.index],
    broadcast: (tx) => node.broadcast(tx),
    defaultFeeRatePerKb: node.config.fallbackfee ?? DEFAULT_WALLET_FEE_RATE_PER_KB,
    maxTxFee: node.config.maxtxfee,
    chain: node.chain,
    prefixes: node.params.prefixes,
    incrementalFeeRatePerKb: node.mempool.incrementalRelayFeeRate,
    minRelayFeeRatePerKb: node.mempool.minRelayFeeRate,
    hasPoolDescendants: (txid) => {
      const e = node.mempool.get(hashFromHex(txid));
      return e !== undefined && node.mempool.children(e).length > 0;
    },
    estimateFeeRatePerKb: (target) => {
      const e = node.feeEstimator.estimate(target);
      // Never below what the pool accepts now (its floor rises when it is full).
      if (e === null) return null;
      const floor = node.mempool.minFeeRate();
      return e.feerate > floor ? e.feerate : floor;
    },
  });
}

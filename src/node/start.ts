// Starting the node: opens the data directory, every part in dependency order, and wires them
// into a TallyNode (node.ts); on any failure closes what was opened and throws. Split from node.ts,
// whose class keeps running and stopping.
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import { Chain } from '../chain/chain.js';
import { pruneAfterHeight } from '../chain/prune.js';
import type { ChainParams } from '../consensus/params.js';
import { paramsOf } from './network-file.js';
import { registerMethods } from './rpc-wiring.js';
import { Mempool } from '../mempool/mempool.js';
import { loadMempool } from '../mempool/persist.js';
import { DEFAULT_USER_AGENT, P2PNode } from '../p2p/node.js';
import { NODE_NETWORK_LIMITED } from '../p2p/messages.js';
import type { Tx } from '../primitives/tx.js';
import { hashFromHex } from '../primitives/bytes.js';
import { isRejectError } from '../consensus/errors.js';
import { RpcServer } from '../rpc/server.js';
import { Miner } from '../mining/miner.js';
import { nativeStatus } from '../mining/hasher.js';
import { BlockProducer } from '../mining/producer.js';
import { AddressError, addressToScript } from '../primitives/address.js';
import { ConfigError, cookiePath } from './config.js';
import { parseWhitelist } from './config-options.js';
import { NotifyCommands } from '../notify/commands.js';
import { ZMQ_TOPICS, ZmqPublisher } from '../notify/zmq.js';
import { SigCache } from '../script/sigcache.js';
import { LevelChainStore } from '../storage/level-store.js';
import { checkDiskSpace, DiskFullError, isDiskFull } from '../storage/disk-space.js';
import { WalletManager, type WalletFollower } from '../wallet/manager.js';
import { type Wallet } from '../wallet/wallet.js';
import { TxIndex } from '../index/txindex.js';
import { openIndex } from '../index/base.js';
import { BlockFilterIndex } from '../index/blockfilter.js';
import { coinStatsIndexFor } from '../index/coinstats.js';
import { AddrIndex } from '../index/addrindex.js';
import {
  indexChainAdapter,
  ibdTracker,
  mempoolChainAdapter,
  p2pChainAdapter,
  p2pMempoolAdapter,
} from './adapters.js';
import type { NodeConfig } from './config.js';
import { DataDirLock } from './datadir.js';
import { createLogging } from './logging.js';
import { NodeMetrics, type MetricsSource } from './metrics.js';
import { TallyNode, dataLayout, testBlockFileSize, pruneTargetBytes, type NodeStartOptions } from './node.js';

/** Starts every part in dependency order; on any failure closes what was opened and throws. */
export async function startNode(config: NodeConfig, opts: NodeStartOptions = {}): Promise<TallyNode> {
  const params = paramsOf(config);
  const files = dataLayout(config.networkDir);
  const mineScript = config.mineaddress === undefined ? undefined : payoutScript(config.mineaddress, params);
  const lock = DataDirLock.acquire(config.networkDir);
  try {
    // Core's start-up check: not even the margin a stopping node needs is free.
    checkDiskSpace(config.networkDir);
  } catch (e) {
    lock.release();
    throw e;
  }
  const cleanup: (() => unknown)[] = [() => lock.release()];
  const checkAbort = () => opts.signal?.throwIfAborted();
  const undo = async () => {
    for (const f of cleanup.reverse()) await Promise.resolve(f()).catch(() => undefined);
  };
  try {
    const logging = createLogging({
      dir: config.networkDir,
      level: config.loglevel,
      debug: config.debug,
      printToConsole: config.printtoconsole,
      console: opts.console,
    });
    cleanup.push(() => logging.close());
    const log = logging.child('node');
    log.info({ network: config.network, datadir: config.networkDir, pid: process.pid }, 'Tally starting');
    for (const note of config.notes) log.info(`config: ${note}`);
    const on = Object.entries(logging.categories()).filter(([, v]) => v);
    if (on.length > 0) log.info(`debug logging: ${on.map(([k]) => k).join(', ')}`);
    // Core's "Config file arg" lines, at debug level and without secrets.
    for (const [k, v] of Object.entries(config))
      if (!/password|auth|notes/.test(k) && v !== undefined && !(Array.isArray(v) && v.length === 0))
        log.debug(`setting: ${k}=${Array.isArray(v) ? v.join(',') : String(v)}`);
    if (config.pid !== undefined) lock.writePidFile(resolve(config.networkDir, config.pid));

    // RPC answers -28 "loading" while the chain opens, as Core's warm-up does.
    const stopper: { node?: TallyNode } = {};
    const metrics = config.metrics ? new NodeMetrics(metricsSource(stopper)) : null;
    const rpc = new RpcServer({
      onStop: () => stopper.node?.stop(),
      port: config.rpcport ?? params.rpcPort,
      bind: config.rpcbind.length ? config.rpcbind : undefined,
      allowIps: config.rpcallowip,
      auth:
        config.rpcuser !== undefined && config.rpcpassword !== undefined
          ? { user: config.rpcuser, password: config.rpcpassword, rpcauth: config.rpcauth }
          : { cookieDir: config.networkDir, cookieFile: cookiePath(config), rpcauth: config.rpcauth },
      rest: config.rest,
      metrics: metrics ? () => metrics.render() : undefined,
      onCall: metrics ? (method, seconds, ok) => metrics.rpcCall(method, seconds, ok) : undefined,
      logger: logging.child('rpc'),
      logPath: join(config.networkDir, 'debug.log'),
    });
    rpc.setWarmup('Loading block index...');
    await rpc.start();
    cleanup.push(() => rpc.stop());
    checkAbort();

    // chainstate/ and blocks/ (index/ and the blk/rev files) under the network's folder.
    const store = await LevelChainStore.open(config.networkDir, {
      cacheSize: 8 << 20,
      onDiskFull: (e) => stopper.node?.abort(e),
      magic: params.magic,
      maxBlockFileSize: testBlockFileSize(),
      // A pruned node cannot rebuild from its files: --reindex downloads the chain again.
      rebuild: config.reindex
        ? config.prune
          ? 'discard'
          : 'index'
        : config['reindex-chainstate']
          ? 'chainstate'
          : 'none',
      onNote: (msg) => log.info(`chain database: ${msg}`),
    });
    const chainLog = logging.child('chain');
    // One signature cache for the pool and the chain: what the mempool verified on entry is not
    // verified again when its block connects.
    const sigCache = new SigCache();
    // Core's cache line at start-up: the whole dbcache goes to the coins cache here.
    log.info(`Using ${config.dbcache.toFixed(1)} MiB for in-memory UTXO set (dbcache)`);
    const chain = await Chain.open({
      sigCache,
      store,
      params,
      dbcacheMB: config.dbcache,
      // --reindex is the store's (it rebuilds the index, and the chain state follows from genesis).
      reindex: config['reindex-chainstate'] && !config.reindex,
      checkBlocks: config.checkblocks,
      pruneTargetBytes: pruneTargetBytes(config.prune),
      // Small test block files are Core's -fastprune, which lowers regtest's PruneAfterHeight.
      pruneAfterHeight: pruneAfterHeight(params.name, testBlockFileSize() !== undefined),
      logger: chainLog,
      activate: false,
    });
    cleanup.push(() => chain.close());
    checkAbort();

    // A write that fails for want of space stops the node (Core's AbortNode) with one line.
    const diskFull = (err: unknown, path: string, what: string): DiskFullError | undefined => {
      if (!isDiskFull(err)) return undefined;
      const reason = new DiskFullError(path, what);
      stopper.node?.abort(reason);
      return reason;
    };
    const indexFailed = (err: unknown, dir: string) => void diskFull(err, dir, 'an index write failed');
    // The explorer finds any transaction and any address: it needs txindex and the address index.
    const explorer = config.explorer !== undefined;
    const indexes = {
      txIndex:
        config.txindex || explorer
          ? await openIndex(
              TxIndex,
              join(config.networkDir, 'indexes', 'txindex'),
              indexChainAdapter(chain),
              logging.child('index'),
              indexFailed,
            )
          : null,
      filterIndex: config.blockfilterindex
        ? await openIndex(
            BlockFilterIndex,
            join(config.networkDir, 'indexes', 'blockfilter', 'basic'),
            indexChainAdapter(chain),
            logging.child('index'),
            indexFailed,
          )
        : null,
      addrIndex: explorer
        ? await openIndex(
            AddrIndex,
            join(config.networkDir, 'indexes', 'addrindex'),
            indexChainAdapter(chain),
            logging.child('index'),
            indexFailed,
          )
        : null,
      coinStatsIndex: config.coinstatsindex
        ? await openIndex(
            coinStatsIndexFor(params),
            join(config.networkDir, 'indexes', 'coinstats'),
            indexChainAdapter(chain),
            logging.child('index'),
            indexFailed,
          )
        : null,
    };
    const indexList = [indexes.txIndex, indexes.filterIndex, indexes.addrIndex, indexes.coinStatsIndex];
    for (const i of indexList) if (i) cleanup.push(() => i.close());

    const mempool = new Mempool({
      chain: mempoolChainAdapter(chain),
      params,
      sigCache,
      // Core's script-execution cache: a transaction whose scripts passed on entry skips them
      // when its block connects.
      onScriptsVerified: (txid, flags) => chain.scriptCache.add(txid, flags),
      maxBytes: config.maxmempool === undefined ? undefined : config.maxmempool * 1_000_000,
      minRelayFeeRate: config.minrelaytxfee,
      ancestorLimit: config.limitancestorcount,
      descendantLimit: config.limitdescendantcount,
      maxOrphans: config.maxorphantx,
    });

    const minimumChainWork = config.minimumchainwork ?? params.minimumChainWork;
    const ibd = ibdTracker(chain, { minimumChainWork });
    // connect=0 is Core's "no outbound connections": no seeds, no address book dialling.
    const noOutbound = config.connect.includes('0');
    const p2p = new P2PNode({
      params: config.seednode.length ? { ...params, seeds: [...params.seeds, ...config.seednode] } : params,
      chain: p2pChainAdapter(chain, ibd, (e) => stopper.node?.supervisor.headerAdded(e), minimumChainWork),
      mempool: p2pMempoolAdapter(mempool),
      port: config.port ?? params.defaultPort,
      bind: config.bind[0] ?? '127.0.0.1',
      listen: config.listen,
      userAgent: userAgent(config.uacomment),
      connect: config.connect.length && !noOutbound ? config.connect : undefined,
      targetOutbound: noOutbound ? 0 : undefined,
      useSeeds: noOutbound ? false : undefined,
      addnode: config.addnode,
      noban: config.whitelist.flatMap((w) => {
        const e = parseWhitelist(w);
        return e?.noban ? [e.net] : [];
      }),
      peersFile: files.peers,
      banlistFile: files.banlist,
      maxConnections: config.maxconnections,
      // BIP159, as Core: a pruned node serves the last 288 blocks only, so says NETWORK_LIMITED.
      services: config.prune ? NODE_NETWORK_LIMITED : undefined,
      timeouts: config.peertimeout === undefined ? undefined : { handshakeMs: config.peertimeout * 1000 },
      logger: logging.child('net'),
    });

    const notify = new NotifyCommands({
      blocknotify: config.blocknotify,
      walletnotify: config.walletnotify,
      alertnotify: config.alertnotify,
      startupnotify: config.startupnotify,
      logger: logging.child('notify'),
    });
    const zmqEndpoints = Object.fromEntries(ZMQ_TOPICS.map((t) => [t, config[`zmqpub${t}`]]));
    const zmq = ZMQ_TOPICS.some((t) => config[`zmqpub${t}`].length)
      ? await ZmqPublisher.start({ endpoints: zmqEndpoints, logger: logging.child('notify') })
      : null;
    if (zmq) cleanup.push(() => zmq.close());

    const follower: WalletFollower = {
      isSynced: (w) => w.tip?.hash === chain.tip.hashHex,
      sync: (w, o) => syncWallet(chain, w, o.restored, log),
      pendingTxs: () => mempool.all().map((e) => e.tx),
    };
    const walletLog = logging.child('wallet');
    const wallets = new WalletManager({
      dir: files.wallets,
      network: params.name,
      prefixes: params.prefixes,
      coinbaseMaturity: params.coinbaseMaturity,
      follower,
      onTxChanged: (w, txid, blockHash, height) => {
        walletLog.debug({ wallet: w, txid, height }, 'AddToWallet');
        notify.walletTx(w, txid, blockHash, height);
      },
      inMempool: (txid) => mempool.has(hashFromHex(txid)),
      resubmit: (txs) => resubmitWalletTxs(txs, mempool, p2p, log),
      onWriteFailed: (err, path) => diskFull(err, path, 'a wallet write failed'),
      settingsFile: join(config.networkDir, 'settings.json'),
    });
    // A node that does not mine keeps one idle hash thread for generatetoaddress.
    const miner = Miner.create({
      threads: config.threads || (config.mine ? availableParallelism() : 1),
      kernel: config.minerkernel ?? 'auto',
    });
    cleanup.push(() => miner.close());
    const nativeWhy = nativeStatus();
    // Said once per node: the miner still works, on the WebAssembly kernel, at a fraction of the rate.
    if (nativeWhy)
      logging
        .child('mining')
        .warn(`native sha256d kernel unavailable (${nativeWhy}); mining with ${miner.kernel}`);
    else logging.child('mining').info(`hash kernel ${miner.kernel}`);
    const producer = new BlockProducer({
      chain,
      mempool,
      params,
      miner,
      payoutScript: mineScript ?? new Uint8Array(0),
      logger: logging.child('mining'),
      sigCache,
    });
    cleanup.push(() => producer.stop());
    const node = new TallyNode(
      config,
      lock,
      logging,
      chain,
      mempool,
      wallets,
      p2p,
      rpc,
      ibd,
      miner,
      producer,
      opts,
      notify,
      zmq,
      indexes,
      metrics,
    );
    stopper.node = node;
    node.wire();

    // Each index checks that the blocks it still needs are not pruned and locks them against
    // pruning before the tip moves (Core's BaseIndex::Init).
    for (const i of indexList) if (i) await i.init();
    rpc.setWarmup('Verifying blocks...');
    await chain.activate();
    checkAbort();
    // Indexes build in the background from the stored blocks and then follow the tip.
    if (indexes.txIndex) await indexes.txIndex.start();
    if (indexes.filterIndex) await indexes.filterIndex.start();
    if (indexes.addrIndex) await indexes.addrIndex.start();
    if (indexes.coinStatsIndex) await indexes.coinStatsIndex.start();
    rpc.setWarmup('Loading wallets...');
    const startup = wallets.startupWallets();
    if (startup.problem !== undefined) log.warn(startup.problem);
    for (const name of startup.names) {
      try {
        await wallets.load(name);
        log.info({ wallet: name }, 'wallet loaded');
      } catch (e) {
        log.warn({ wallet: name, err: e }, 'wallet not loaded');
      }
    }
    rpc.setWarmup('Loading mempool...');
    checkAbort();
    if (config.persistmempool)
      try {
        const r = await loadMempool(mempool, files.mempool);
        if (r.loaded || r.failed) log.info(r, 'mempool loaded');
      } catch (e) {
        log.warn({ err: e, file: files.mempool }, 'mempool.dat ignored');
      }
    registerMethods(node);
    checkAbort();
    if (!config.networkactive) p2p.setNetworkActive(false);
    try {
      await p2p.start();
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EADDRINUSE')
        throw new Error(
          `P2P port ${config.port ?? params.defaultPort} is already in use (is another node running?)`,
        );
      throw e;
    }
    if (config.mine) await node.startMining(mineScript);
    if (config.stratum !== undefined)
      await node.startStratum(config.stratum, config.stratumbind, config.stratumdifficulty);
    if (config.explorer !== undefined) await node.startExplorer(config.explorer, config.explorerbind);
    node.scheduleWalletResend();
    if (metrics) node.countUtxos();
    node.supervisor.start();
    node.watchForNoPeers();
    rpc.setWarmup(null);
    notify.startup();
    log.info(
      {
        height: chain.height,
        tip: chain.tip.hashHex,
        p2p: p2p.url,
        rpcPort: rpc.port,
        explorer: node.explorer?.url,
      },
      'Tally started',
    );
    return node;
  } catch (e) {
    await undo();
    throw e;
  }
}

/** Replays the blocks a wallet has not seen; a restored wallet reads the whole chain. */
async function syncWallet(chain: Chain, w: Wallet, restored: boolean, log: Logger): Promise<void> {
  const tip = w.tip;
  let from: number;
  if (restored || tip === null) {
    // A brand-new wallet has no history to find: it only needs to know where the chain is.
    from = restored ? 0 : chain.height;
  } else {
    let e = chain.getEntry(tip.hash);
    if (!e)
      // The chain lost blocks the wallet saw (a damaged or replaced database): keep everything the
      // wallet knows, rescan what the chain has, and let catching up from peers confirm the rest.
      log.warn(
        { walletTip: tip, chainHeight: chain.height },
        "the wallet's last block is unknown to the chain database; rescanning from genesis",
      );
    // Blocks the wallet saw may have been reorganised away while it was not loaded: forget them
    // down to the fork (their coinbases go, their transactions become unconfirmed), then replay.
    const seen = e;
    while (e && !chain.isOnActiveChain(e)) e = e.prev ?? undefined;
    if (seen && e && e !== seen) {
      log.info({ from: tip.height, fork: e.height }, 'wallet rewound to the fork of a reorg it missed');
      w.rewind(e.height, e.hashHex);
    }
    from = e ? e.height + 1 : 0;
  }
  const end = chain.height;
  async function* blocks() {
    for (let h = from; h <= end; h++) {
      const e = chain.getEntryAtHeight(h);
      if (!e) return;
      const block = await chain.getBlock(e.hash);
      if (!block) return;
      yield { block, height: h };
    }
  }
  await w.rescan(blocks());
}

/** Core's user agent with -uacomment: /Tally:0.1.0(comment; comment)/. */
function userAgent(comments: string[]): string | undefined {
  if (comments.length === 0) return undefined;
  return DEFAULT_USER_AGENT.replace(/\/$/, `(${comments.join('; ')})/`);
}

/**
 * Core's ResubmitWalletTransactions: a wallet transaction the pool lacks (lost with a crash,
 * evicted) is offered again; one it holds is announced again. A refusal is logged, not fatal: the
 * transaction may have become invalid, which abandontransaction resolves.
 */
async function resubmitWalletTxs(txs: Tx[], mempool: Mempool, p2p: P2PNode, log: Logger): Promise<void> {
  let resubmitted = 0;
  for (const tx of txs) {
    if (mempool.has(tx.txid())) {
      p2p.relayTransaction(tx);
      continue;
    }
    try {
      await mempool.accept(tx);
      resubmitted++;
    } catch (err) {
      if (!isRejectError(err)) throw err;
      log.warn({ txid: tx.txidHex(), reason: err.reason }, 'wallet transaction not resubmitted');
    }
  }
  if (resubmitted > 0)
    log.info({ transactions: resubmitted }, 'wallet transactions resubmitted to the mempool');
}

function payoutScript(address: string, params: ChainParams): Uint8Array {
  try {
    return addressToScript(address, params.prefixes);
  } catch (e) {
    if (e instanceof AddressError)
      throw new ConfigError(`invalid value for mineaddress: not a ${params.name} address (${e.message})`);
    throw e;
  }
}

/** What /metrics reads, from the node once it exists (zeros while it starts). */
function metricsSource(holder: { node?: TallyNode }): MetricsSource {
  return {
    tipHeight: () => holder.node?.chain.height ?? 0,
    headerHeight: () => holder.node?.chain.bestHeader.height ?? 0,
    peers: () => holder.node?.p2p.connectionCount() ?? { inbound: 0, outbound: 0 },
    netTotals: () => holder.node?.p2p.netTotals() ?? { bytesSent: 0, bytesRecv: 0 },
    mempool: () => ({ size: holder.node?.mempool.size ?? 0, bytes: holder.node?.mempool.totalBytes ?? 0 }),
    utxoCount: () => holder.node?.utxoCount.value ?? null,
    hashrate: () => holder.node?.producer.hashrate ?? 0,
    blocksFound: () => holder.node?.producer.blocksFound ?? 0,
    bannedPeers: () => holder.node?.p2p.listBanned().length ?? 0,
    stratum: () => holder.node?.stratumFigures() ?? null,
  };
}

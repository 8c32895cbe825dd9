// The running node: the only place the concrete parts are created and wired (DESIGN.md §2).
// Owns: the order of start-up and shutdown, the data directory's layout, and the event plumbing
// between the chain, the mempool, the wallets, p2p, the miner and RPC. Owns no rules. Fails at
// start with a clear error (bad config, locked data directory, corrupt database) before anything
// listens; once running, a failing part is logged and the node stops cleanly rather than limp on.
import { randomInt } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { rmSync, writeFileSync } from 'node:fs';
import { access } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import { Chain } from '../chain/chain.js';
import type { ChainParams } from '../consensus/params.js';
import { paramsOf } from './network-file.js';
import { Mempool } from '../mempool/mempool.js';
import { loadMempool, saveMempool } from '../mempool/persist.js';
import { DEFAULT_USER_AGENT, P2PNode } from '../p2p/node.js';
import type { SyncProgress } from '../p2p/node.js';
import { NODE_NETWORK_LIMITED } from '../p2p/messages.js';
import type { Block } from '../primitives/block.js';
import type { Tx } from '../primitives/tx.js';
import { hashFromHex, reverseHex } from '../primitives/bytes.js';
import { isRejectError } from '../consensus/errors.js';
import { RpcServer } from '../rpc/server.js';
import { stringifyJson } from '../rpc/json.js';
import { registerWalletMethods } from '../rpc/wallet-methods.js';
import { registerMiningMethods, submitBlock } from '../rpc/mining-methods.js';
import { StratumServer } from '../stratum/server.js';
import { createTemplate } from '../mining/template.js';
import { registerChainMethods } from '../rpc/chain-methods.js';
import { registerNetMethods } from '../rpc/net-methods.js';
import { registerInterfaceMethods } from '../rpc/interface-methods.js';
import { registerNodeMethods } from '../rpc/node-methods.js';
import { registerUtxoMethods } from '../rpc/utxo-methods.js';
import { registerControlMethods } from '../rpc/control-methods.js';
import { mempoolRejectToRpc, registerRawTxMethods } from '../rpc/rawtx-methods.js';
import { registerTxOutProofMethods } from '../rpc/txoutproof-methods.js';
import { FeeEstimator } from '../mempool/fee-estimator.js';
import { Miner } from '../mining/miner.js';
import { nativeStatus } from '../mining/hasher.js';
import { BlockProducer } from '../mining/producer.js';
import { AddressError, addressToScript } from '../primitives/address.js';
import { ConfigError, cookiePath } from './config.js';
import { NotifyCommands } from '../notify/commands.js';
import { ZMQ_TOPICS, ZmqPublisher } from '../notify/zmq.js';
import { hexToBytes } from '../primitives/bytes.js';
import type { BlockEntry } from '../chain/block-index.js';
import { SigCache } from '../script/sigcache.js';
import { LevelChainStore } from '../storage/level-store.js';
import { MAX_BLOCKFILE_SIZE } from '../storage/block-files.js';
import { checkDiskSpace, DiskFullError, isDiskFull } from '../storage/disk-space.js';
import { WalletManager, type WalletFollower } from '../wallet/manager.js';
import { WalletWriteError, type Wallet } from '../wallet/wallet.js';
import { TxIndex } from '../index/txindex.js';
import { openIndex } from '../index/base.js';
import { BlockFilterIndex } from '../index/blockfilter.js';
import { type CoinStatsIndex, coinStatsIndexFor } from '../index/coinstats.js';
import { AddrIndex } from '../index/addrindex.js';
import { ExplorerServer } from '../explorer/server.js';
import {
  indexChainAdapter,
  ibdTracker,
  mempoolChainAdapter,
  netAdapter,
  p2pChainAdapter,
  p2pMempoolAdapter,
  subscribeHooks,
  templateAdapter,
} from './adapters.js';
import type { NodeConfig } from './config.js';
import { DataDirLock } from './datadir.js';
import { createLogging, type Logging } from './logging.js';
import { NodeMetrics, type MetricsSource, type StratumFigures } from './metrics.js';
import { SUPERVISION_EVENTS, Supervisor } from './supervisor.js';
import { UtxoCounter } from './utxo-count.js';
import type { RejectedItem } from '../p2p/node.js';

/** Rows of an address's history the explorer shows (the newest; the balance counts them all). */
const EXPLORER_ADDRESS_ROWS = 500;
/** How long a node waits for its known peers before saying it has none, and how often it repeats. */
const ALONE_FIRST_MS = 30_000;
const ALONE_REPEAT_MS = 5 * 60_000;

/** Default fee rate for wallet sends when nothing better is known: 10 base units per byte. */
const DEFAULT_WALLET_FEE_RATE_PER_KB = 10_000n;

export interface NodeStartOptions {
  /** Where readable log lines go (default process.stdout when printtoconsole). */
  console?: { write(line: string): unknown; isTTY?: boolean };
  /** Called once the node has stopped (after `stop` over RPC, a signal, or a fatal error). */
  onStopped?: (err?: unknown) => void;
  /** Aborts start-up between its steps (a signal that arrives before the node is up). */
  signal?: AbortSignal;
}

/** Start-up was aborted by NodeStartOptions.signal; what it had opened is closed again. */
export class StartAborted extends Error {
  override readonly name = 'StartAborted';
  constructor() {
    super('start-up aborted');
  }
}

/**
 * Test-only: TALLY_TEST_BLOCKFILE_BYTES makes blk files that small (Core's -fastprune), so pruning
 * shows within a few hundred regtest blocks; the prune target shrinks by the same factor.
 */
export function testBlockFileSize(): number | undefined {
  const v = Number(process.env.TALLY_TEST_BLOCKFILE_BYTES);
  return Number.isInteger(v) && v >= 4096 ? v : undefined;
}

/**
 * The chain's prune target for prune=N (MiB): undefined when off, 0 for pruneblockchain only (1),
 * else N MiB, scaled down with the test block-file size so that pruning shows with small files.
 */
export function pruneTargetBytes(prune: number): number | undefined {
  if (prune === 0) return undefined;
  if (prune === 1) return 0;
  const bytes = prune * 1024 * 1024;
  const small = testBlockFileSize();
  return small === undefined ? bytes : Math.floor((bytes * small) / MAX_BLOCKFILE_SIZE);
}

/** The files of a network's data directory. */
export function dataLayout(networkDir: string) {
  return {
    chainstate: join(networkDir, 'chainstate'),
    blocks: join(networkDir, 'blocks'),
    wallets: join(networkDir, 'wallets'),
    mempool: join(networkDir, 'mempool.dat'),
    peers: join(networkDir, 'peers.json'),
    banlist: join(networkDir, 'banlist.json'),
  };
}

export class TallyNode {
  readonly params: ChainParams;
  readonly log: Logger;
  private stopping: Promise<void> | null = null;
  /** Why the node stops on its own (Core's AbortNode): reported as the stop's failure. */
  private aborted: Error | null = null;
  private readonly unsubscribe: (() => void)[] = [];
  private resendTimer: NodeJS.Timeout | null = null;
  private aloneTimers: NodeJS.Timeout[] = [];
  private disconnected: Tx[] = [];
  private stratum: StratumServer | null = null;
  private explorer: ExplorerServer | null = null;
  readonly feeEstimator = new FeeEstimator();
  readonly utxoCount = new UtxoCounter();
  readonly supervisor: Supervisor;

  private constructor(
    readonly config: NodeConfig,
    private readonly lock: DataDirLock,
    private readonly logging: Logging,
    readonly chain: Chain,
    readonly mempool: Mempool,
    readonly wallets: WalletManager,
    readonly p2p: P2PNode,
    readonly rpc: RpcServer,
    readonly isInitialBlockDownload: () => boolean,
    readonly miner: Miner,
    readonly producer: BlockProducer,
    private readonly opts: NodeStartOptions,
    private readonly notify: NotifyCommands,
    readonly zmq: ZmqPublisher | null,
    readonly indexes: {
      txIndex: TxIndex | null;
      filterIndex: BlockFilterIndex | null;
      addrIndex: AddrIndex | null;
      coinStatsIndex: CoinStatsIndex | null;
    },
    readonly metrics: NodeMetrics | null,
  ) {
    this.params = paramsOf(config);
    this.log = logging.child('node');
    this.supervisor = new Supervisor({
      params: this.params,
      settings: {
        reorgDepth: config.alertreorgdepth,
        staleTipSpacings: config.alertstaletip,
        forkLength: config.alertforklength,
      },
      tip: () => chain.tip,
      isActive: (e) => {
        const entry = chain.getEntry(e.hashHex);
        return entry !== undefined && chain.isOnActiveChain(entry);
      },
      isInitialBlockDownload,
      notify: (message) => notify.alert(message),
      count: metrics ? (event) => metrics.supervisionEvent(event) : undefined,
      logger: logging.child('node'),
    });
    if (metrics) for (const e of SUPERVISION_EVENTS) metrics.declareEvent(e);
  }

  /** Starts every part in dependency order; on any failure closes what was opened and throws. */
  static async start(config: NodeConfig, opts: NodeStartOptions = {}): Promise<TallyNode> {
    const params = paramsOf(config);
    const files = dataLayout(config.networkDir);
    const mineScript =
      config.mineaddress === undefined ? undefined : payoutScript(config.mineaddress, params);
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
      if (config.pid !== undefined) {
        const pidFile = resolve(config.networkDir, config.pid);
        writeFileSync(pidFile, `${process.pid}\n`);
        cleanup.push(() => rmSync(pidFile, { force: true }));
      }

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
      const chain = await Chain.open({
        sigCache,
        store,
        params,
        dbcacheMB: config.dbcache,
        // --reindex is the store's (it rebuilds the index, and the chain state follows from genesis).
        reindex: config['reindex-chainstate'] && !config.reindex,
        checkBlocks: config.checkblocks,
        pruneTargetBytes: pruneTargetBytes(config.prune),
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
      for (const i of [indexes.txIndex, indexes.filterIndex, indexes.addrIndex, indexes.coinStatsIndex])
        if (i) cleanup.push(() => i.close());

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
      const wallets = new WalletManager({
        dir: files.wallets,
        network: params.name,
        prefixes: params.prefixes,
        coinbaseMaturity: params.coinbaseMaturity,
        follower,
        onTxChanged: (w, txid, blockHash, height) => notify.walletTx(w, txid, blockHash, height),
        inMempool: (txid) => mempool.has(hashFromHex(txid)),
        resubmit: (txs) => resubmitWalletTxs(txs, mempool, p2p, log),
        onWriteFailed: (err, path) => diskFull(err, path, 'a wallet write failed'),
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

      rpc.setWarmup('Verifying blocks...');
      await chain.activate();
      checkAbort();
      // Indexes build in the background from the stored blocks and then follow the tip.
      if (indexes.txIndex) await indexes.txIndex.start();
      if (indexes.filterIndex) await indexes.filterIndex.start();
      if (indexes.addrIndex) await indexes.addrIndex.start();
      if (indexes.coinStatsIndex) await indexes.coinStatsIndex.start();
      rpc.setWarmup('Loading wallets...');
      for (const name of wallets.available()) {
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
      node.registerMethods();
      checkAbort();
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

  /** Reopens debug.log (after log rotation moved it: SIGHUP, as Core). */
  reopenLog(): void {
    this.logging.reopen();
    this.log.info('debug.log reopened');
  }

  get progress(): SyncProgress {
    return this.p2p.progress();
  }

  /** The Stratum server's share accounting for /metrics, or null without --stratum. */
  stratumFigures(): StratumFigures | null {
    const s = this.stratum;
    return s ? { connections: s.connectionCount, workers: s.workerStats() } : null;
  }

  /** Mempool acceptance then relay (p2p announces whatever enters the pool). */
  async broadcast(tx: Tx): Promise<void> {
    try {
      await this.mempool.accept(tx);
    } catch (e) {
      if (isRejectError(e)) this.refusedDoubleSpend(tx, 'this node (RPC or wallet)');
      throw mempoolRejectToRpc(e);
    }
  }

  /**
   * Supervision: a refused `tx` that spends an output a pool transaction spends is a double-spend
   * attempt, whatever the refusal's reason (a conflict, or a replacement paying too little).
   * Returns whether it was one.
   */
  private refusedDoubleSpend(tx: Tx, source: string): boolean {
    const spenders = new Set<string>();
    const own = tx.txidHex();
    for (const input of tx.inputs) {
      const s = this.mempool.spender(input.prevout);
      if (s && s.tx.txidHex() !== own) spenders.add(s.tx.txidHex());
    }
    if (spenders.size === 0) return false;
    this.supervisor.doubleSpend(own, [...spenders], source);
    return true;
  }

  /** A peer's block, headers or transaction was refused: counted, and supervised. */
  private onRejected(item: RejectedItem): void {
    this.metrics?.invalidReceived(item.kind, item.reason, item.policy ? 'policy' : 'consensus');
    if (item.kind === 'tx' && item.tx) this.refusedDoubleSpend(item.tx, `peer ${item.peer}`);
    else this.supervisor.rejected(item);
  }

  /** Counts the UTXO set once in the background; blocks after it keep the count (utxo-count.ts). */
  private countUtxos(): void {
    this.chain
      .utxoDigest()
      .then((d) => {
        if (!this.utxoCount.baseline(d.count, d.bestBlock))
          this.log.warn('UTXO count unknown: too many blocks arrived while counting');
      })
      .catch((err: unknown) => this.log.warn({ err }, 'UTXO count failed'));
  }

  private wire(): void {
    const { chain, mempool, wallets } = this;
    const { zmq, notify } = this;
    let lastConnected: Block | null = null;
    // A reorganisation: blocks disconnected since the last tip, and the tip they left.
    let reorgDepth = 0;
    let reorgFrom = '';
    // A wallet whose file could not be written has stopped the node (a full disk); the chain and
    // the pool that told it go on with their step, and a send hears of it in commitTransaction.
    const walletEvent = (f: () => void) => {
      try {
        f();
      } catch (e) {
        if (!(e instanceof WalletWriteError)) throw e;
      }
    };
    const onConnect = ({ block, height, seconds }: { block: Block; height: number; seconds: number }) => {
      this.utxoCount.apply(block, 1, block.hashHex());
      this.metrics?.blockConnected(
        seconds,
        block.txs.reduce((n, t, i) => n + (i === 0 ? 0 : t.inputs.length), 0),
      );
      // The estimator learns how long pool transactions waited, so it reads the pool first.
      this.feeEstimator.processBlock(height, block.txs, mempool);
      mempool.removeForBlock(block.txs);
      walletEvent(() => wallets.onBlockConnected(block, height));
      // Core's BlockConnected: each transaction, then the block's "C" sequence event.
      if (zmq) {
        for (const tx of block.txs) zmq.transaction(hexToBytes(tx.txidHex()), () => tx.encode());
        zmq.blockConnected(hexToBytes(block.hashHex()));
      }
      lastConnected = block;
    };
    const onDisconnect = ({ block, height }: { block: Block; height: number }) => {
      if (reorgDepth++ === 0) reorgFrom = block.hashHex();
      this.utxoCount.apply(block, -1, reverseHex(block.header.prevHash));
      this.disconnected.push(...block.txs.filter((t) => !t.isCoinbase()));
      walletEvent(() => wallets.onBlockDisconnected(block, height));
      if (zmq) {
        for (const tx of block.txs) zmq.transaction(hexToBytes(tx.txidHex()), () => tx.encode());
        zmq.blockDisconnected(hexToBytes(block.hashHex()));
      }
    };
    // Core's UpdatedBlockTip: the new tip once per change, not while catching up.
    const onTipNotify = (tip: BlockEntry) => {
      if (this.isInitialBlockDownload()) return;
      notify.blockTip(tip.hashHex);
      if (!zmq) return;
      const block = lastConnected?.hashHex() === tip.hashHex ? lastConnected : null;
      if (block) zmq.blockTip(hexToBytes(tip.hashHex), () => block.encode());
      else
        void this.chain.getBlock(tip.hash).then((b) => {
          if (b) zmq.blockTip(hexToBytes(tip.hashHex), () => b.encode());
        });
    };
    // A reorg's transactions go back to the pool once the new chain is in place (Core's
    // MaybeUpdateMempoolForReorg): what the new chain confirmed or conflicts with is refused then.
    const onTip = (tip: BlockEntry) => {
      if (reorgDepth > 0) {
        this.metrics?.reorg(reorgDepth);
        this.supervisor.reorganized(reorgDepth, reorgFrom, tip);
        reorgDepth = 0;
      }
      if (this.disconnected.length === 0) return;
      const txs = this.disconnected;
      this.disconnected = [];
      mempool.reorganize(txs).catch((err: unknown) => this.log.error({ err }, 'mempool reorganize failed'));
    };
    // Full RBF: the pool evicts what a replacement spends, then inserts it (one step): the
    // evictions reported just before an acceptance are what that transaction double-spent.
    let replaced: string[] = [];
    const poolLog = this.logging.child('mempool');
    const onAccepted = (e: { tx: Tx }) => {
      poolLog.debug({ txid: e.tx.txidHex(), poolsz: mempool.size }, 'AcceptToMemoryPool: accepted');
      if (replaced.length > 0) {
        this.supervisor.doubleSpend(e.tx.txidHex(), replaced, 'a replacement accepted into the pool');
        replaced = [];
      }
      walletEvent(() => wallets.onTxAccepted(e.tx));
      if (zmq) {
        const txid = hexToBytes(e.tx.txidHex());
        zmq.transaction(txid, () => e.tx.encode());
        zmq.mempoolAdded(txid);
      }
    };
    // Core sends "R" for every removal but those a block confirmed.
    const onRemoved = (e: { tx: Tx }, reason: string) => {
      poolLog.debug({ txid: e.tx.txidHex(), reason }, 'removed from the pool');
      if (reason === 'replaced') replaced.push(e.tx.txidHex());
      if (zmq && reason !== 'block') zmq.mempoolRemoved(hexToBytes(e.tx.txidHex()));
    };
    chain.on('connect', onConnect);
    chain.on('disconnect', onDisconnect);
    chain.on('tip', onTip);
    chain.on('tip', onTipNotify);
    mempool.on('accepted', onAccepted);
    mempool.on('removed', onRemoved);
    const onRejected = (item: RejectedItem) => this.onRejected(item);
    this.p2p.on('rejected', onRejected);
    this.unsubscribe.push(
      subscribeHooks(chain, this.producer),
      () => chain.off('connect', onConnect),
      () => chain.off('disconnect', onDisconnect),
      () => chain.off('tip', onTip),
      () => chain.off('tip', onTipNotify),
      () => mempool.off('accepted', onAccepted),
      () => mempool.off('removed', onRemoved),
      () => this.p2p.off('rejected', onRejected),
    );
  }

  /**
   * Serves Stratum v1 miners: jobs from this node's template, blocks they solve go through
   * submitblock's path (and are relayed like any new tip). A username that is not an address is
   * paid to a new address of the node's wallet.
   */
  private async startStratum(port: number, host = '127.0.0.1', startDifficulty?: number): Promise<void> {
    const { chain, mempool, params } = this;
    const server = new StratumServer(
      {
        prefixes: params.prefixes,
        template: () => createTemplate({ chain, mempool, params }),
        submitBlock: (block) => submitBlock(chain, block),
        onTip: (listener) => {
          chain.on('tip', listener);
          return () => chain.off('tip', listener);
        },
        walletPayout: async () => {
          if (this.wallets.names().length === 0) return null;
          try {
            return addressToScript(this.wallets.get().getNewAddress('stratum'), params.prefixes);
          } catch {
            return null;
          }
        },
      },
      { port, host, startDifficulty, logger: this.logging.child('stratum') },
    );
    await listenOrExplain(() => server.start(), `Stratum port ${port}`);
    this.stratum = server;
    this.rpc.register('getstratuminfo', () => server.info(), {
      help: 'Returns the Stratum server: port, connections, current job, and per worker the accepted, rejected, stale, duplicate and low-difficulty shares, blocks found and estimated hash rate.',
      params: [],
    });
  }

  /** Serves the read-only explorer page (src/explorer) from this node's RPC methods and indexes. */
  private async startExplorer(port: number, host = '127.0.0.1'): Promise<void> {
    const { chain, params } = this;
    const addrIndex = this.indexes.addrIndex!;
    const server = new ExplorerServer(
      {
        // As a client reads it: the JSON text RPC sends, parsed (amounts become numbers).
        call: async (method, args) => JSON.parse(stringifyJson(await this.rpc.call(method, args))) as unknown,
        address: async (address) => {
          let script: Uint8Array;
          try {
            script = addressToScript(address, params.prefixes);
          } catch {
            return null;
          }
          const h = await addrIndex.history(script, EXPLORER_ADDRESS_ROWS);
          return {
            address,
            balance: h.received - h.spent,
            received: h.received,
            spent: h.spent,
            txCount: h.total,
            history: h.rows.reverse(),
            synced: addrIndex.info().synced,
          };
        },
        alerts: () => this.supervisor.recent(),
        onTip: (listener) => {
          const f = (e: BlockEntry) => listener(e.height, e.hashHex);
          chain.on('tip', f);
          return () => chain.off('tip', f);
        },
      },
      { port, host, logger: this.logging.child('rpc') },
    );
    await listenOrExplain(() => server.start(), `explorer port ${port}`);
    this.explorer = server;
  }

  /**
   * Rebroadcasts the wallets' unconfirmed transactions every walletresendinterval seconds, or
   * after a random 12 to 36 hours each time as Core's ResendWalletTransactions (so the moment of a
   * rebroadcast does not tell an observer which transactions are this node's).
   */
  /**
   * A node with no peer builds a private chain nobody else sees, so it says so (not on regtest,
   * nor with connect=0, where that is the point): at start when it knows no peer address at all,
   * else when none answered after a while, and again every few minutes while it stays alone.
   */
  private watchForNoPeers(): void {
    const { config, params } = this;
    if (params.name === 'regtest' || config.connect.includes('0')) return;
    const known =
      params.seeds.length + config.seednode.length + config.addnode.length + config.connect.length;
    const warn = () => {
      const { inbound, outbound } = this.p2p.connectionCount();
      if (inbound + outbound > 0 || this.stopping !== null) return;
      const how =
        'add one with --addnode ws://HOST:PORT (addnode= in tally.conf) or `tally rpc addnode ws://HOST:PORT add`' +
        (config.chainFile === undefined ? '' : `, or list seeds in ${config.chainFile}`);
      this.log.warn(
        `no peer connected on ${params.name}: ` +
          (known === 0 ? 'no peer address is known' : `none of the ${known} known peer addresses answered`) +
          `; this node's chain is seen by nobody else; ${how}`,
      );
    };
    if (known === 0) warn();
    else this.aloneTimers.push(setTimeout(warn, ALONE_FIRST_MS));
    this.aloneTimers.push(setInterval(warn, ALONE_REPEAT_MS));
    for (const t of this.aloneTimers) t.unref();
  }

  private scheduleWalletResend(): void {
    const fixed = this.config.walletresendinterval;
    const seconds = fixed ?? 12 * 3600 + randomInt(24 * 3600);
    this.resendTimer = setTimeout(() => {
      this.wallets
        .resubmitAll()
        .catch((err: unknown) => this.log.warn({ err }, 'wallet rebroadcast failed'))
        .finally(() => {
          if (this.stopping === null) this.scheduleWalletResend();
        });
    }, seconds * 1000);
    this.resendTimer.unref();
  }

  /** Mines to `script`, or to an address of the wallet (created when there is none, as a first run needs). */
  private async startMining(script: Uint8Array | undefined): Promise<void> {
    let payout = script;
    if (payout === undefined) {
      let wallet: Wallet;
      if (this.wallets.names().length === 0 && !this.wallets.available().includes('default')) {
        const created = await this.wallets.create('default');
        wallet = created.wallet;
        this.say(
          'Created wallet "default" to receive mined coins. Its recovery phrase (write it down; it is not shown again):\n' +
            `  ${created.mnemonic}\n` +
            'The wallet is not encrypted: run `tally rpc encryptwallet PASSPHRASE` to encrypt it.\n',
        );
      } else wallet = this.wallets.get();
      payout = addressToScript(wallet.getNewAddress('mining'), this.params.prefixes);
    }
    this.producer.start(payout);
  }

  /** A warning the operator must see: logged and handed to alertnotify (Core's DoWarning). */
  alert(message: string): void {
    this.log.warn(message);
    this.notify.alert(message);
  }

  /** Stops the node for a reason it cannot go on with (a full disk): one error line, alertnotify,
   * and the reason handed to onStopped so the command exits with it (Core's AbortNode). */
  abort(reason: DiskFullError): void {
    if (this.aborted) return;
    this.aborted = reason;
    this.log.error(reason.message);
    this.notify.alert(reason.message);
    void this.stop();
  }

  /** A message for the person at the console (not the log file: it may hold a secret). */
  private say(text: string): void {
    if (!this.config.printtoconsole && !this.opts.console) return;
    (this.opts.console ?? process.stdout).write(text);
  }

  private registerMethods(): void {
    registerChainMethods(this.rpc, {
      chain: this.chain,
      mempool: this.mempool,
      params: this.params,
      feeEstimator: this.feeEstimator,
      syncProgress: () => this.p2p.progress(),
      isInitialBlockDownload: this.isInitialBlockDownload,
      datadir: this.config.networkDir,
      pruneTargetSize: this.config.prune > 1 ? this.config.prune * 1024 * 1024 : undefined,
    });
    registerNetMethods(this.rpc, { p2p: netAdapter(this.p2p), params: this.params, mempool: this.mempool });
    const { txIndex, filterIndex, addrIndex, coinStatsIndex } = this.indexes;
    registerUtxoMethods(this.rpc, {
      chain: this.chain,
      prefixes: this.params.prefixes,
      datadir: this.config.networkDir,
      networkMagic: this.params.magic,
      chainstateDir: dataLayout(this.config.networkDir).chainstate,
      coinStats: coinStatsIndex ?? undefined,
    });
    registerInterfaceMethods(this.rpc, {
      zmqNotifications: () => this.zmq?.notifications() ?? [],
      indexes: () =>
        Object.fromEntries(
          [txIndex, filterIndex, addrIndex, coinStatsIndex]
            .filter((i) => i !== null)
            .map((i) => [i.name, i.info()]),
        ),
      hasBlock: (hash) => this.chain.getEntry(hash) !== undefined,
      basicFilter: filterIndex ? (hash) => filterIndex.get(hash) : undefined,
    });
    const txIndexBlock = txIndex ? (txid: Uint8Array) => txIndex.blockOf(txid) : undefined;
    registerRawTxMethods(this.rpc, {
      chain: this.chain,
      mempool: this.mempool,
      params: this.params,
      wallets: this.wallets,
      broadcast: (tx) => this.broadcast(tx),
      txIndexBlock,
    });
    registerTxOutProofMethods(this.rpc, { chain: this.chain, txIndexBlock });
    const miningHooks = registerMiningMethods(this.rpc, {
      chain: this.chain,
      mempool: this.mempool,
      params: this.params,
      producer: this.producer,
      templates: templateAdapter(this.chain, this.mempool),
      connectionCount: () => {
        const c = this.p2p.connectionCount();
        return c.inbound + c.outbound;
      },
      isInitialBlockDownload: this.isInitialBlockDownload,
    });
    this.unsubscribe.push(subscribeHooks(this.chain, miningHooks));
    const mempoolFile = dataLayout(this.config.networkDir).mempool;
    const nodeHooks = registerNodeMethods(this.rpc, {
      chain: this.chain,
      mempool: this.mempool,
      params: this.params,
      syncProgress: () => this.p2p.progress(),
      isInitialBlockDownload: this.isInitialBlockDownload,
      coinsCacheBytes: () => this.chain.cacheBytes,
      saveMempool: async () => {
        await saveMempool(this.mempool, mempoolFile);
        return mempoolFile;
      },
      importMempool: async (path, opts) => {
        await access(path); // loadMempool reads a missing file as an empty pool; importing one is an error
        const r = await loadMempool(this.mempool, path, opts);
        this.log.info({ file: path, ...r }, 'mempool imported');
      },
    });
    this.unsubscribe.push(subscribeHooks(this.chain, nodeHooks));
    registerControlMethods(this.rpc, {
      chain: this.chain,
      mempool: this.mempool,
      logging: this.logging,
      p2p: netAdapter(this.p2p),
    });
    registerWalletMethods(this.rpc, {
      wallets: this.wallets,
      mempoolSpender: (outpoint) => this.mempool.spender(outpoint)?.tx.txidHex(),
      broadcast: (tx) => this.broadcast(tx),
      defaultFeeRatePerKb: this.config.fallbackfee ?? DEFAULT_WALLET_FEE_RATE_PER_KB,
      maxTxFee: this.config.maxtxfee,
      chain: this.chain,
      prefixes: this.params.prefixes,
      incrementalFeeRatePerKb: this.mempool.incrementalRelayFeeRate,
      hasPoolDescendants: (txid) => {
        const e = this.mempool.get(hashFromHex(txid));
        return e !== undefined && this.mempool.children(e).length > 0;
      },
      estimateFeeRatePerKb: (target) => {
        const e = this.feeEstimator.estimate(target);
        // Never below what the pool accepts now (its floor rises when it is full).
        if (e === null) return null;
        const floor = this.mempool.minFeeRate();
        return e.feerate > floor ? e.feerate : floor;
      },
    });
  }

  /** Stops every part in reverse order; safe to call more than once (all calls share one stop). */
  stop(): Promise<void> {
    this.stopping ??= this.doStop();
    return this.stopping;
  }

  private async doStop(): Promise<void> {
    this.log.info('Tally stopping');
    if (this.resendTimer !== null) clearTimeout(this.resendTimer);
    this.supervisor.stop();
    for (const t of this.aloneTimers) clearTimeout(t);
    let failure: unknown;
    const step = async (what: string, f: () => unknown) => {
      try {
        await f();
      } catch (err) {
        // The abort's own error again (the chain's last flush refused): already said once.
        if (err === this.aborted) return;
        failure ??= err;
        this.log.error({ err }, `${what} failed while stopping`);
      }
    };
    await step('miner', async () => {
      await this.producer.stop();
      await this.miner.close();
    });
    await step('stratum', () => this.stratum?.stop());
    await step('explorer', () => this.explorer?.stop());
    await step('p2p', () => this.p2p.stop());
    await step('rpc', () => this.rpc.stop());
    await step('zmq', () => this.zmq?.close());
    for (const u of this.unsubscribe) u();
    if (this.config.persistmempool)
      await step('mempool.dat', async () => {
        const n = await saveMempool(this.mempool, dataLayout(this.config.networkDir).mempool);
        this.log.info({ transactions: n }, 'mempool saved');
      });
    await step('wallets', () => this.wallets.close());
    await step('indexes', async () => {
      await this.indexes.txIndex?.close();
      await this.indexes.filterIndex?.close();
      await this.indexes.addrIndex?.close();
      await this.indexes.coinStatsIndex?.close();
    });
    await step('chain', () => this.chain.close());
    this.log.info('Tally stopped');
    await step('log', () => this.logging.close());
    this.lock.release();
    this.opts.onStopped?.(this.aborted ?? failure);
  }
}

/** Starts a listener; a port in use becomes one line naming it. */
async function listenOrExplain(start: () => Promise<void>, what: string): Promise<void> {
  try {
    await start();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new Error(`${what} is already in use`);
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

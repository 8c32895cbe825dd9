// The running node: the only place the concrete parts are created and wired (DESIGN.md §2).
// Owns: the order of start-up and shutdown, the data directory's layout, and the event plumbing
// between the chain, the mempool, the wallets, p2p, the miner and RPC. Owns no rules. Fails at
// start with a clear error (bad config, locked data directory, corrupt database) before anything
// listens; once running, a failing part is logged and the node stops cleanly rather than limp on.
import { randomInt } from 'node:crypto';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { Chain } from '../chain/chain.js';
import type { ChainParams } from '../consensus/params.js';
import { paramsOf } from './network-file.js';
import { Mempool } from '../mempool/mempool.js';
import { saveMempool } from '../mempool/persist.js';
import { P2PNode } from '../p2p/node.js';
import type { SyncProgress } from '../p2p/node.js';
import type { Block } from '../primitives/block.js';
import type { Tx } from '../primitives/tx.js';
import { reverseHex } from '../primitives/bytes.js';
import { isRejectError } from '../consensus/errors.js';
import { RpcServer } from '../rpc/server.js';
import { stringifyJson } from '../rpc/json.js';
import { submitBlock } from '../rpc/mining-methods.js';
import { StratumServer } from '../stratum/server.js';
import { createTemplate } from '../mining/template.js';
import { mempoolRejectToRpc } from '../rpc/rawtx-methods.js';
import { FeeEstimator } from '../mempool/fee-estimator.js';
import { Miner } from '../mining/miner.js';
import { BlockProducer } from '../mining/producer.js';
import { addressToScript } from '../primitives/address.js';
import { NotifyCommands } from '../notify/commands.js';
import { ZmqPublisher } from '../notify/zmq.js';
import { hexToBytes } from '../primitives/bytes.js';
import type { BlockEntry } from '../chain/block-index.js';
import { MAX_BLOCKFILE_SIZE } from '../storage/block-files.js';
import { DiskFullError } from '../storage/disk-space.js';
import { WalletManager } from '../wallet/manager.js';
import { WalletWriteError, type Wallet } from '../wallet/wallet.js';
import { TxIndex } from '../index/txindex.js';
import { BlockFilterIndex } from '../index/blockfilter.js';
import { type CoinStatsIndex } from '../index/coinstats.js';
import { AddrIndex } from '../index/addrindex.js';
import { ExplorerServer } from '../explorer/server.js';
import { subscribeHooks } from './adapters.js';
import type { NodeConfig } from './config.js';
import { DataDirLock } from './datadir.js';
import { type Logging } from './logging.js';
import { NodeMetrics, type StratumFigures } from './metrics.js';
import { SUPERVISION_EVENTS, Supervisor } from './supervisor.js';
import { UtxoCounter } from './utxo-count.js';
import type { RejectedItem } from '../p2p/node.js';
import { startNode } from './start.js';
import { TipLog } from './tip-log.js';

/** Rows of an address's history the explorer shows (the newest; the balance counts them all). */
const EXPLORER_ADDRESS_ROWS = 500;
/** How long a node waits for its known peers before saying it has none, and how often it repeats. */
const ALONE_FIRST_MS = 30_000;
const ALONE_REPEAT_MS = 5 * 60_000;

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
 * Test-only: TALLY_TEST_POOL_MISSES_HEIGHT=H keeps the block connected at height H from the pool
 * (not removeForBlock'd), so the pool may keep a transaction that block spent: the real-process
 * test of the producer dropping a transaction that makes its template invalid (issue 11; nothing
 * else puts such a transaction in a pool that follows the chain). An environment variable, as
 * TALLY_TEST_BLOCKFILE_BYTES: no peer or RPC caller can set it.
 */
export function testPoolMissesHeight(): number | undefined {
  const v = Number(process.env.TALLY_TEST_POOL_MISSES_HEIGHT);
  return Number.isInteger(v) && v > 0 ? v : undefined;
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
  readonly unsubscribe: (() => void)[] = [];
  private resendTimer: NodeJS.Timeout | null = null;
  private aloneTimers: NodeJS.Timeout[] = [];
  private disconnected: Tx[] = [];
  private stratum: StratumServer | null = null;
  explorer: ExplorerServer | null = null;
  readonly feeEstimator = new FeeEstimator();
  readonly utxoCount = new UtxoCounter();
  readonly supervisor: Supervisor;

  constructor(
    readonly config: NodeConfig,
    private readonly lock: DataDirLock,
    readonly logging: Logging,
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
  static start(config: NodeConfig, opts: NodeStartOptions = {}): Promise<TallyNode> {
    return startNode(config, opts);
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
      this.refused(tx, e);
      throw mempoolRejectToRpc(e);
    }
  }

  /** A transaction given to this node (RPC or wallet) was refused: supervised as a peer's is. */
  refused(tx: Tx, e: unknown): void {
    if (isRejectError(e)) this.refusedDoubleSpend(tx, 'this node (RPC or wallet)');
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
  countUtxos(): void {
    this.chain
      .utxoDigest()
      .then((d) => {
        if (!this.utxoCount.baseline(d.count, d.bestBlock))
          this.log.warn('UTXO count unknown: too many blocks arrived while counting');
      })
      .catch((err: unknown) => this.log.warn({ err }, 'UTXO count failed'));
  }

  wire(): void {
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
    const missedHeight = testPoolMissesHeight();
    const onConnect = ({ block, height, seconds }: { block: Block; height: number; seconds: number }) => {
      this.utxoCount.apply(block, 1, block.hashHex());
      this.metrics?.blockConnected(
        seconds,
        block.txs.reduce((n, t, i) => n + (i === 0 ? 0 : t.inputs.length), 0),
      );
      // The estimator learns how long pool transactions waited, so it reads the pool first.
      this.feeEstimator.processBlock(height, block.txs, mempool);
      if (height !== missedHeight) mempool.removeForBlock(block.txs);
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
    const tipLog = new TipLog({
      log: this.logging.child('chain'),
      isInitialBlockDownload: this.isInitialBlockDownload,
      bestHeaderHeight: () => chain.bestHeader.height,
    });
    const onTip = (tip: BlockEntry) => {
      tipLog.onTip(tip);
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
  async startStratum(port: number, host = '127.0.0.1', startDifficulty?: number): Promise<void> {
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
  async startExplorer(port: number, host = '127.0.0.1'): Promise<void> {
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
  watchForNoPeers(): void {
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

  scheduleWalletResend(): void {
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
  async startMining(script: Uint8Array | undefined): Promise<void> {
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

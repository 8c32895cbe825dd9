// The block producer: keeps the miner's threads on the best template for the current tip and
// hands what they find to the chain. Owns: building templates (template.ts), giving every header
// a fresh extra-nonce (and the current time) so no two searches repeat, aborting the search the
// moment the tip moves (node/ calls tipChanged() -> Miner.abort(), a shared epoch word every thread reads
// between chunks), refreshing the template when the mempool changed and refreshSeconds passed,
// submitting finds with chain.processBlock, and the periodic hash-rate log line. Does not own the
// hashing (miner.ts) or removing mined transactions from the mempool (the node wires the chain's
// 'connect' event to Mempool.removeForBlock, and the chain's 'tip' to tipChanged: the producer
// subscribes to nothing itself). Every new template is checked as a BIP23 proposal
// (proposal.ts, the checks getblocktemplate's proposal mode runs) before a thread hashes it: a
// transaction that makes it invalid is found by bisecting the template's prefixes, dropped from
// the pool with its descendants, logged once, and the template rebuilt, so an invalid block is
// never mined, let alone in a loop (issue 11). Fails soft: a rejected find is logged and mining
// goes on; a template invalid without any transaction stops the session with one error line; an
// unexpected error ends the background loop with an error log line.
import type { Logger } from '../primitives/logger.js';
import { formatCoins } from '../consensus/amount.js';
import type { ChainParams } from '../consensus/params.js';
import { equalBytes } from '../primitives/bytes.js';
import { Block, BlockHeader } from '../primitives/block.js';
import type { Tx } from '../primitives/tx.js';
import type { SigCache } from '../script/sigcache.js';
import { NONCE_SPACE, type FoundHeader, type Miner, type Work, type WorkReason } from './miner.js';
import type { ProducerChain, ProducerPool, TemplatePool } from './ports.js';
import { checkProofOfWork } from '../consensus/pow.js';
import { computeMerkleRoot } from '../primitives/merkle.js';
import { checkProposal } from './proposal.js';
import { formatHashRate } from './hash-rate.js';
import {
  type BlockTemplate,
  assembleBlock,
  coinbaseTx,
  createTemplate,
  templateMerkleRoot,
} from './template.js';

export interface BlockProducerOptions {
  chain: ProducerChain;
  mempool: ProducerPool;
  params: ChainParams;
  miner: Miner;
  /** Where the background loop (start()) pays the coinbase. */
  payoutScript: Uint8Array;
  logger?: Logger;
  /** A changed mempool replaces the template once it is this old (default 30 s). */
  refreshSeconds?: number;
  /** Unix seconds (default the wall clock). */
  now?: () => number;
  /** Seconds between hash-rate log lines while start()ed (default 60). */
  logSeconds?: number;
  /** Nonces searched per header before the extra-nonce rolls (default 2^32, the whole field). */
  nonceRange?: number;
  /** The mempool's signature cache: checking a template then re-verifies no pool signature. */
  sigCache?: SigCache;
}

/** What generateBlock made: the solved block, or why it could not be (Core's generateblock errors). */
export type GeneratedBlock =
  { block: Block } | { invalid: string } | { failed: 'tries' } | { notAccepted: string };

export interface MineBlocksOptions {
  /** Nonces tried in all before giving up (generatetoaddress's maxtries); default unlimited. */
  maxTries?: number;
}

/** The header being searched and what is needed to turn a find into a block. */
interface CurrentWork {
  template: BlockTemplate;
  coinbase: Tx;
  mempoolVersion: number;
  builtAt: number;
}

interface Session {
  payout: Uint8Array;
  signal: AbortSignal;
  /** Stop after this many connected blocks. */
  want?: number;
  triesLeft?: number;
  /** miner.hashes when the last header was handed out (tries are counted in hashes done). */
  hashesMark?: number;
  hashes: string[];
  work?: CurrentWork;
}

const CHECK_MS = 1000;
/** Templates built and dropped from before one is valid, at most (each drops a transaction). */
const MAX_TEMPLATE_ROUNDS = 1000;
/** generateblock builds its template without the pool, as Core's createNewBlock({use_mempool: false}). */
const NO_POOL: TemplatePool = { all: () => [], ancestors: () => new Map(), modifiedFee: (e) => e.fee };

export class BlockProducer {
  private readonly chain: ProducerChain;
  private readonly mempool: ProducerPool;
  private readonly params: ChainParams;
  private readonly miner: Miner;
  private payoutScript: Uint8Array;
  private readonly log?: Logger;
  private readonly refreshSeconds: number;
  private readonly logSeconds: number;
  private readonly nonceRange: number;
  private readonly now: () => number;
  private readonly sigCache?: SigCache;
  private extraNonce = 0n;
  private found = 0;
  private isRunning = false;
  private background: AbortController | null = null;
  private readonly sessions = new Set<AbortController>();
  private current: Session | null = null;
  /** Sessions run one at a time on the one miner. */
  private lock: Promise<unknown> = Promise.resolve();
  private checkTimer: NodeJS.Timeout | null = null;
  private logTimer: NodeJS.Timeout | null = null;

  constructor(opts: BlockProducerOptions) {
    this.chain = opts.chain;
    this.mempool = opts.mempool;
    this.params = opts.params;
    this.miner = opts.miner;
    this.payoutScript = opts.payoutScript;
    this.log = opts.logger;
    this.refreshSeconds = opts.refreshSeconds ?? 30;
    this.logSeconds = opts.logSeconds ?? 60;
    this.nonceRange = opts.nonceRange ?? NONCE_SPACE;
    if (!Number.isInteger(this.nonceRange) || this.nonceRange < 1 || this.nonceRange > NONCE_SPACE)
      throw new RangeError('nonceRange must be an integer within 1..2^32');
    this.now = opts.now ?? (() => Math.floor(Date.now() / 1000));
    this.sigCache = opts.sigCache;
  }

  /** Whether the background loop (start()) is on. */
  get running(): boolean {
    return this.isRunning;
  }

  /** Hashes per second of the miner over its last ~10 s. */
  get hashrate(): number {
    return this.miner.hashrate;
  }

  /** The nonce kernel the miner's threads run (native-avx512, wasm-simd, ...). */
  get kernel(): string {
    return this.miner.kernel;
  }

  /** Blocks this producer found that became the chain's tip. */
  get blocksFound(): number {
    return this.found;
  }

  /** Mines in the background, paying payoutScript (or the one given here), until stop(). */
  start(payoutScript?: Uint8Array): void {
    if (this.isRunning) return;
    if (payoutScript) this.payoutScript = payoutScript;
    this.isRunning = true;
    this.checkTimer = setInterval(() => this.check(), CHECK_MS);
    this.checkTimer.unref();
    this.logTimer = setInterval(() => this.logRate(), this.logSeconds * 1000);
    this.logTimer.unref();
    this.log?.info({ threads: this.miner.threads, kernel: this.miner.kernel }, 'mining started');
    this.startBackground();
  }

  /** Stops every search (background and mineBlocks) and resolves once no thread is hashing. */
  async stop(): Promise<void> {
    // The threads first: everything below (the first AbortController.abort() builds a DOMException,
    // ~0.4 ms) would otherwise let each thread hash a chunk or more (16k nonces, ~0.4 ms on AVX-512).
    if (this.current) this.miner.abort();
    const wasRunning = this.isRunning;
    this.isRunning = false;
    if (this.checkTimer) clearInterval(this.checkTimer);
    if (this.logTimer) clearInterval(this.logTimer);
    this.checkTimer = this.logTimer = null;
    for (const ac of this.sessions) ac.abort();
    this.background = null;
    await this.lock;
    if (wasRunning) this.log?.info({ blocksFound: this.found }, 'mining stopped');
  }

  /**
   * Mines n blocks on the tip paying payoutScript (generatetoaddress) and returns their display
   * hashes; fewer when maxTries runs out or stop() is called. The background loop, if on, pauses
   * meanwhile.
   */
  async mineBlocks(n: number, payoutScript: Uint8Array, opts: MineBlocksOptions = {}): Promise<string[]> {
    if (!Number.isSafeInteger(n) || n < 0) throw new RangeError('n must be a non-negative integer');
    const ac = new AbortController();
    this.sessions.add(ac);
    const resume = this.background !== null;
    if (resume) this.pauseBackground();
    const session: Session = {
      payout: payoutScript,
      signal: ac.signal,
      want: n,
      triesLeft: opts.maxTries,
      hashes: [],
    };
    try {
      await this.exclusive(() => this.run(session));
    } finally {
      this.sessions.delete(ac);
      if (resume && this.isRunning && this.background === null) this.startBackground();
    }
    return session.hashes;
  }

  /**
   * Core's generateblock: a block on the tip holding exactly `txs` after a coinbase paying the
   * subsidy alone (Core builds it without the pool, so the fees are not claimed), checked as a
   * proposal, solved by a nonce search of at most maxTries headers on this thread, then handed to
   * the chain unless `submit` is false. The search yields to the event loop every 10,000 headers.
   */
  async generateBlock(
    payoutScript: Uint8Array,
    txs: readonly Tx[],
    opts: { submit: boolean; maxTries: number },
  ): Promise<GeneratedBlock> {
    const now = this.now();
    const template = createTemplate({ chain: this.chain, mempool: NO_POOL, params: this.params }, { now });
    const time = Math.max(now, template.mintime);
    const coinbase = coinbaseTx(template, payoutScript, this.extraNonce++);
    const merkle = computeMerkleRoot([coinbase.txid(), ...txs.map((t) => t.txid())]).root;
    let header = new BlockHeader(template.version, template.prevHash, merkle, time, template.bits, 0);
    const invalid = await checkProposal(
      this.chain,
      new Block(header, [coinbase, ...txs]),
      time,
      this.sigCache,
    );
    if (invalid !== null) return { invalid };
    let tries = opts.maxTries;
    while (!checkProofOfWork(header.hash(), header.bits, this.params)) {
      if (--tries <= 0 || header.nonce === 0xffffffff) return { failed: 'tries' };
      header = new BlockHeader(header.version, header.prevHash, merkle, time, header.bits, header.nonce + 1);
      if (header.nonce % 10_000 === 0) await new Promise((done) => setImmediate(done));
    }
    const block = new Block(header, [coinbase, ...txs]);
    if (!opts.submit) return { block };
    const res = await this.chain.processBlock(block);
    return res.accepted ? { block } : { notAccepted: res.reason ?? 'rejected' };
  }

  private startBackground(): void {
    const ac = new AbortController();
    this.background = ac;
    this.sessions.add(ac);
    void this.exclusive(() => this.run({ payout: this.payoutScript, signal: ac.signal, hashes: [] })).finally(
      () => this.sessions.delete(ac),
    );
  }

  private pauseBackground(): void {
    this.background?.abort();
    this.background = null;
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.lock.then(fn, fn);
    this.lock = next.catch(() => undefined);
    return next;
  }

  private async run(session: Session): Promise<void> {
    if (session.signal.aborted) return;
    this.current = session;
    try {
      await this.miner.mine(
        (reason) => this.getWork(session, reason),
        (f) => this.onFound(session, f),
        { signal: session.signal },
      );
    } catch (e) {
      this.log?.error({ err: e }, 'mining stopped by an error');
      if (session.want !== undefined) throw e;
    } finally {
      this.current = null;
    }
  }

  /** node/ calls this on a new tip: every thread drops the stale header at its next chunk boundary. */
  tipChanged(): void {
    const work = this.current?.work;
    if (work && !equalBytes(work.template.prevHash, this.chain.tip.hash)) this.miner.abort();
  }

  /** Once a second: catch a tip change that raced the search start, and refresh for the mempool. */
  private check(): void {
    const work = this.current?.work;
    if (!work) return;
    if (!equalBytes(work.template.prevHash, this.chain.tip.hash) || this.refreshDue(work)) this.miner.abort();
  }

  private refreshDue(work: CurrentWork): boolean {
    return work.mempoolVersion !== this.mempool.revision && this.now() - work.builtAt >= this.refreshSeconds;
  }

  private logRate(): void {
    this.log?.info(
      {
        hashrate: formatHashRate(this.miner.hashrate),
        threads: this.miner.threads,
        blocksFound: this.found,
        height: this.chain.height,
      },
      'mining',
    );
  }

  private async getWork(s: Session, reason: WorkReason): Promise<Work | null> {
    if (s.signal.aborted) return null;
    if (s.want !== undefined && s.hashes.length >= s.want) return null;
    if (s.triesLeft !== undefined && s.hashesMark !== undefined)
      s.triesLeft -= this.miner.hashes - s.hashesMark;
    s.hashesMark = this.miner.hashes;
    if (s.triesLeft !== undefined && s.triesLeft <= 0) return null;
    const prev = s.work;
    const stale =
      !prev ||
      reason === 'found' ||
      !equalBytes(prev.template.prevHash, this.chain.tip.hash) ||
      (reason === 'exhausted' ? this.refreshDue(prev) : prev.mempoolVersion !== this.mempool.revision);
    const now = this.now();
    const revision = this.mempool.revision;
    const template = stale ? await this.validTemplate(s.payout) : prev.template;
    if (template === null || s.signal.aborted) return null;
    if (stale)
      this.log?.debug(
        {
          height: template.height,
          txs: template.txs.length,
          value: `${formatCoins(template.coinbaseValue)} coins`,
          reason,
        },
        'new block template',
      );
    // Every header gets its own extra-nonce: a rolled one after an exhausted range, and a fresh one
    // for a new template so that no two searches ever cover the same header.
    const coinbase = coinbaseTx(template, s.payout, this.extraNonce++);
    s.work = {
      template,
      coinbase,
      mempoolVersion: stale ? revision : prev.mempoolVersion,
      builtAt: stale ? now : prev.builtAt,
    };
    const time = Math.max(now, template.mintime);
    const header = new BlockHeader(
      template.version,
      template.prevHash,
      templateMerkleRoot(template, coinbase),
      time,
      template.bits,
      0,
    );
    const range = s.triesLeft === undefined ? this.nonceRange : Math.min(this.nonceRange, s.triesLeft);
    return { header: header.encode(), target: template.target, startNonce: 0, endNonce: range };
  }

  /**
   * A template for the tip whose block, solved, would connect; null (logged) when even one without
   * transactions would not. A transaction that makes it fail is dropped from the pool with its
   * descendants and the template is built again: each round removes one, so this ends.
   */
  private async validTemplate(payout: Uint8Array): Promise<BlockTemplate | null> {
    // A reorg's transactions back in the pool first (generatetoaddress right after invalidateblock
    // must include them, as Core's would).
    await this.mempool.settled();
    for (let round = 0; round < MAX_TEMPLATE_ROUNDS; round++) {
      const now = this.now();
      const template = createTemplate(
        { chain: this.chain, mempool: this.mempool, params: this.params },
        { now },
      );
      const time = Math.max(now, template.mintime);
      const check = (n: number) => this.checkPrefix(template, n, payout, time);
      const reason = await check(template.txs.length);
      if (reason === null) return template;
      if (reason === 'inconclusive-not-best-prevblk') continue; // the tip moved meanwhile
      const empty = template.txs.length === 0 ? reason : await check(0);
      if (empty !== null) {
        this.log?.error({ height: template.height, reason: empty }, 'block template invalid; mining stopped');
        return null;
      }
      // The first k transactions pass and k + 1 fail: the (k+1)th is the culprit. (Parents come
      // before children, so every prefix is a block of its own.)
      let good = 0;
      let bad = template.txs.length;
      while (bad - good > 1) {
        const mid = (good + bad) >> 1;
        if ((await check(mid)) === null) good = mid;
        else bad = mid;
      }
      const culprit = template.txs[bad - 1];
      const failure = (await check(bad)) ?? reason;
      const entry = this.mempool.get(culprit.tx.txid());
      if (entry) this.mempool.removeWithDescendants(entry, 'invalid');
      this.log?.warn(
        { txid: culprit.txid, reason: failure, height: template.height },
        'transaction makes the block template invalid; dropped from the mempool',
      );
    }
    this.log?.error({ rounds: MAX_TEMPLATE_ROUNDS }, 'no valid block template; mining stopped');
    return null;
  }

  /** The proposal check of the template cut to its first n transactions (coinbase paying their fees). */
  private checkPrefix(t: BlockTemplate, n: number, payout: Uint8Array, time: number): Promise<string | null> {
    const txs = t.txs.slice(0, n);
    const dropped = t.txs.slice(n).reduce((sum, x) => sum + x.fee, 0n);
    const block = assembleBlock({ ...t, txs, coinbaseValue: t.coinbaseValue - dropped }, payout, 0, time);
    return checkProposal(this.chain, block, time, this.sigCache);
  }

  private async onFound(s: Session, f: FoundHeader): Promise<void> {
    const work = s.work as CurrentWork;
    const block = new Block(BlockHeader.decode(f.header), [
      work.coinbase,
      ...work.template.txs.map((t) => t.tx),
    ]);
    const res = await this.chain.processBlock(block);
    const hash = block.hashHex();
    if (res.accepted && equalBytes(this.chain.tip.hash, block.hash())) {
      this.found++;
      s.hashes.push(hash);
      this.log?.info(
        {
          hash,
          height: work.template.height,
          txs: block.txs.length,
          reward: `${formatCoins(work.template.coinbaseValue)} coins`,
        },
        'mined a block',
      );
    } else {
      this.log?.warn({ hash, reason: res.reason ?? 'not connected' }, 'mined block not connected');
    }
  }
}

// Adapters from the concrete Chain, Mempool and P2PNode to the narrow ports p2p/, mempool/ and rpc/ declare,
// and the one place parts are subscribed to the chain's and pool's events (subscribeHooks)
// (DESIGN.md §2). Owns only translation: hash lookups, the download window over the best header
// chain, and RejectError -> Verdict. Holds no state beyond a cache of the best header path.
import { type BlockEntry, medianTimePast } from '../chain/block-index.js';
import { blockWork, checkProofOfWork } from '../consensus/pow.js';
import { permittedDifficultyTransition } from '../consensus/retarget.js';
import type { Chain } from '../chain/chain.js';
import type { IndexChain } from '../index/ports.js';
import { RejectError } from '../consensus/errors.js';
import type { MempoolChain } from '../mempool/mempool.js';
import type { Mempool, MempoolEntry } from '../mempool/mempool.js';
import type { P2PChain, P2PMempool, Verdict } from '../p2p/ports.js';
import type { Block, BlockHeader } from '../primitives/block.js';
import { equalBytes } from '../primitives/bytes.js';
import type { Tx } from '../primitives/tx.js';
import { checkProposal } from '../mining/proposal.js';
import { type BlockTemplate, createTemplate } from '../mining/template.js';
import type { P2PNode } from '../p2p/node.js';
import type { EventHooks, NetPort, TemplatePort } from '../rpc/ports.js';

/** Core's DEFAULT_MAX_TIP_AGE: a tip older than this means the node is still catching up. */
export const MAX_TIP_AGE_SECONDS = 24 * 60 * 60;

export interface IbdOptions {
  now?: () => number;
  maxTipAge?: number;
  /** Core's -minimumchainwork: overrides the network's minimumChainWork. */
  minimumChainWork?: bigint;
}

/**
 * Bitcoin Core's IsInitialBlockDownload: true while the tip is older than a day or headers run
 * ahead of it; once false it stays false (a latch), so a slow stretch of blocks does not stop relay.
 */
export function ibdTracker(chain: Chain, opts: IbdOptions = {}): () => boolean {
  const now = opts.now ?? (() => Math.floor(Date.now() / 1000));
  const maxAge = opts.maxTipAge ?? MAX_TIP_AGE_SECONDS;
  const minimumWork = opts.minimumChainWork ?? chain.params.minimumChainWork;
  let done = false;
  return () => {
    if (done) return false;
    const tip = chain.tip;
    if (tip.chainWork < minimumWork) return true;
    if (tip.header.time < now() - maxAge) return true;
    if (chain.bestHeader.height > tip.height + 6) return true;
    done = true;
    return false;
  };
}

function verdictOf(e: RejectError | undefined): Verdict {
  return e ? { reason: e.reason, dos: e.dos } : {};
}

/** Core's 144-block buffer below the tip in GetAntiDoSWorkThreshold: forks that close are stored at once. */
export const ANTI_DOS_TIP_BUFFER_BLOCKS = 144n;

/**
 * `onAdded` is told of the last entry of every headers message and of every block a peer's data
 * added to the index (supervision looks for rival branches there). `minimumChainWork` overrides
 * the network's (Core's -minimumchainwork).
 */
export function p2pChainAdapter(
  chain: Chain,
  isIbd: () => boolean = ibdTracker(chain),
  onAdded?: (e: BlockEntry) => void,
  minimumChainWork: bigint = chain.params.minimumChainWork,
): P2PChain {
  return {
    tipHeight: () => chain.height,
    tipHash: () => chain.tip.hash,
    headerTipHeight: () => chain.bestHeader.height,
    headerTipHash: () => chain.bestHeader.hash,
    isOnActiveChain: (hash) => {
      const e = chain.getEntry(hash);
      return e !== undefined && chain.isOnActiveChain(e);
    },
    headerHeight: (hash) => chain.getEntry(hash)?.height,
    getHeader: (hash) => chain.getHeader(hash),
    getLocator: (from) => {
      const e = from ? chain.getEntry(from) : chain.bestHeader;
      return chain.getLocator(e ?? chain.bestHeader);
    },
    getHeadersAfter(locator, stop, max): BlockHeader[] {
      const fork = chain.findFork(locator);
      const out: BlockHeader[] = [];
      for (let h = fork.height + 1; h <= chain.height && out.length < max; h++) {
        const e = chain.getEntryAtHeight(h)!;
        out.push(e.header);
        if (equalBytes(e.hash, stop)) break;
      }
      return out;
    },
    hasBlock: (hash) => chain.getEntry(hash)?.hasData() ?? false,
    getBlockBytes: async (hash) => (await chain.getBlockBytes(hash)) ?? null,
    async processHeaders(headers) {
      const r = await chain.processHeaders(headers);
      if (r.last && r.error === undefined) onAdded?.(r.last);
      return { ok: r.error === undefined, ...verdictOf(r.error) };
    },
    blocksToDownload: (max) => chain.blocksToDownload(max),
    async processBlock(block: Block) {
      return (await this.processBlocks([block]))[0];
    },
    processBlocks(blocks: Block[], supply?: () => Block | null) {
      // Hashes only past the call: the chain lets each block go once it is connected.
      const hashes = blocks.map((b) => b.hash());
      const supplied =
        supply &&
        ((): Block | null => {
          const b = supply();
          if (b) hashes.push(b.hash());
          return b;
        });
      return chain.processBlocks(blocks, supplied).then((rs) =>
        rs.map((r, i) => {
          const e = r.accepted && onAdded ? chain.getEntry(hashes[i]) : undefined;
          if (e) onAdded?.(e);
          return { accepted: r.accepted, ...verdictOf(r.error) };
        }),
      );
    },
    belowMinimumWork: (hash) => {
      const e = chain.getEntry(hash);
      return e !== undefined && e.chainWork < minimumChainWork;
    },
    headerSummary(hash) {
      const e = chain.getEntry(hash);
      if (!e) return undefined;
      return {
        hash: e.hash,
        height: e.height,
        time: e.time,
        bits: e.bits,
        mtp: medianTimePast(e),
        chainWork: e.chainWork,
      };
    },
    antiDoSWorkThreshold() {
      const tip = chain.tip;
      const buffer = ANTI_DOS_TIP_BUFFER_BLOCKS * blockWork(tip.bits);
      const nearTip = tip.chainWork > buffer ? tip.chainWork - buffer : 0n;
      return nearTip > minimumChainWork ? nearTip : minimumChainWork;
    },
    checkHeaderLink(prev, h) {
      if (!checkProofOfWork(h.hash(), h.bits, chain.params)) return 'high-hash';
      if (!permittedDifficultyTransition(prev, h.bits, chain.params)) return 'bad-diffbits';
      return undefined;
    },
    isInitialBlockDownload: isIbd,
    onTip(cb) {
      const listener = (e: BlockEntry) => cb(e.hash, e.height);
      chain.on('tip', listener);
      return () => chain.off('tip', listener);
    },
  };
}

export function p2pMempoolAdapter(mempool: Mempool): P2PMempool {
  return {
    has: (txid) => mempool.has(txid),
    get: (txid) => mempool.get(txid)?.tx,
    txids: () => mempool.all().map((e) => e.tx.txid()),
    async accept(tx: Tx, peer?: number) {
      try {
        await mempool.accept(tx, { peer });
        return { accepted: true };
      } catch (e) {
        if (!(e instanceof RejectError)) throw e;
        return { accepted: false, policy: e.category === 'policy', ...verdictOf(e) };
      }
    },
    peerGone: (peer) => void mempool.erasePeerOrphans(peer),
    onOrphanRejected(cb) {
      const listener = (tx: Tx, peers: number[], e: RejectError) =>
        cb(tx, peers, { policy: e.category === 'policy', ...verdictOf(e) });
      mempool.on('orphanRejected', listener);
      return () => mempool.off('orphanRejected', listener);
    },
    onAccepted(cb) {
      const listener = (e: MempoolEntry) => cb(e.tx);
      mempool.on('accepted', listener);
      return () => mempool.off('accepted', listener);
    },
  };
}

export function mempoolChainAdapter(chain: Chain): MempoolChain {
  return {
    tipHeight: () => chain.height,
    tipMedianTimePast: () => chain.medianTimePast(),
    medianTimePastAt: (h) => chain.medianTimePastAt(h),
    getCoins: (ops) => chain.getCoins(ops),
  };
}

/** Templates and BIP23 proposals on the chain's tip and the pool, for rpc/'s getblocktemplate. */
export function templateAdapter(chain: Chain, mempool: Mempool): TemplatePort<BlockTemplate> {
  return {
    create: (now) => createTemplate({ chain, mempool, params: chain.params }, { now }),
    // The pool's signature cache: a proposal of pool transactions verifies no signature again.
    checkProposal: (block, now) => checkProposal(chain, block, now, mempool.sigCache),
  };
}

/** The p2p node for rpc/'s network methods. */
export function netAdapter(p2p: P2PNode): NetPort {
  return {
    get url() {
      return p2p.url;
    },
    userAgent: p2p.userAgent,
    services: p2p.services,
    relaysTxs: p2p.mempool !== undefined,
    tipHeight: () => p2p.chain.tipHeight(),
    peerInfo: () => p2p.peerInfo(),
    connectionCount: () => p2p.connectionCount(),
    netTotals: () => p2p.netTotals(),
    pingPeers: () => p2p.pingPeers(),
    addNode: (address, command) => p2p.addNode(address, command),
    addedNodes: () => p2p.addedNodes(),
    disconnectPeer: (idOrUrl) => p2p.disconnectPeer(idOrUrl),
    get networkActive() {
      return p2p.networkActive;
    },
    setNetworkActive: (active) => p2p.setNetworkActive(active),
    fetchBlock: (id, hash) => p2p.fetchBlock(id, hash),
    setBan: (address, command, banTimeSec) => p2p.setBan(address, command, banTimeSec),
    listBanned: () => p2p.listBanned(),
    clearBanned: () => p2p.clearBanned(),
    knownAddresses: (max) => (max > 0 ? p2p.book.sample(max) : p2p.book.all()),
  };
}

/** Forwards the chain's new tips to `hooks` (the producer, the mining RPC); returns the unsubscribe. */
export function subscribeHooks(chain: Chain, hooks: EventHooks): () => void {
  const tip = (): void => hooks.tipChanged();
  chain.on('tip', tip);
  return () => chain.off('tip', tip);
}

/** The chain as the optional indexes see it (index/ports.ts). */
export function indexChainAdapter(chain: Chain): IndexChain {
  const ref = (e: BlockEntry | undefined | null) => (e ? { hash: e.hash, height: e.height } : undefined);
  return {
    tip: () => ref(chain.tip)!,
    atHeight: (h) => ref(chain.getEntryAtHeight(h)),
    isActive: (hash) => {
      const e = chain.getEntry(hash);
      return e !== undefined && chain.isOnActiveChain(e);
    },
    parent: (hash) => ref(chain.getEntry(hash)?.prev),
    getBlock: (hash) => chain.getBlock(hash),
    getUndo: (hash) => chain.getUndo(hash),
    pruneHeight: () => chain.pruneHeight(),
    setPruneLock: (name, heightFirst) => chain.setPruneLock(name, heightFirst),
    removePruneLock: (name) => chain.removePruneLock(name),
    onTip: (f) => {
      chain.on('tip', f);
      return () => chain.off('tip', f);
    },
  };
}

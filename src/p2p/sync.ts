// Headers-first sync and block download: one peer at a time is asked for headers (getheaders with
// a locator, 2,000 per batch); the blocks behind the best header are requested from several peers
// at once in a moving window, held until their parent is connected, and handed to the chain in
// order (a run, then the next held blocks as the chain asks for them). Also the sync progress shown
// to the operator.
// Owns: which peer syncs headers, which blocks are in flight from whom, the held blocks, stall and
// headers timeouts. Does not own: validation (the chain judges; misbehaviour scores through
// connman) nor connections.
import type { Block, BlockHeader } from '../primitives/block.js';
import { equalBytes, reverseHex } from '../primitives/bytes.js';
import { randomBytes } from 'node:crypto';
import { blockWork } from '../consensus/pow.js';
import type { ConnMan } from './connman.js';
import { HeadersSyncState, type HeadersSyncResult } from './headers-sync.js';
import {
  InvType,
  MAX_HEADERS,
  NODE_NETWORK,
  NODE_NETWORK_LIMITED,
  NODE_NETWORK_LIMITED_MIN_BLOCKS,
  PROTOCOL_VERSION,
  isLimitedPeer,
  type InvItem,
} from './messages.js';
import { key, type P2PNodeOptions, type P2PTimeouts, type SyncProgress } from './options.js';
import type { Peer } from './peer.js';
import type { Logger, P2PChain, Verdict } from './ports.js';

type HeldBlock = { block: Block; from: Peer };
/** A block handed to the chain: its hash and sender, not the block (the chain holds it). */
type RunBlock = { hash: Uint8Array; from: Peer };

const nullHash = new Uint8Array(32);
/** Headers hashed, or linked and checked in pre-sync, per turn (see onHeaders): about a quarter
 * of a millisecond of work (100 left a low-work headers flood at ~3x quiet RPC latency, 25 ~2.4x). */
export const HEADER_SLICE = 25;
/**
 * Most held blocks handed to the chain at once; the chain asks for the held blocks after them one
 * at a time as it connects (the `supply` of processBlocks). The chain connects a run as a pipeline;
 * bench connect (1,111 blocks, one verify thread, idle 2-core machine) was fastest at 4 of 1, 2, 4
 * and 16: a run of 16 held its decoded blocks long enough to quadruple the young-generation GC time.
 */
export const HANDOVER_RUN = 4;
/** Core's "close to today" in SendMessages: a best header younger than this (seconds) has every
 * peer asked for headers; an older one, a single peer at a time. */
export const RECENT_HEADER_AGE_S = 24 * 60 * 60;

/** Core's CanServeBlocks: NODE_NETWORK or NODE_NETWORK_LIMITED. */
function canServeBlocks(p: Peer): boolean {
  return ((p.version?.services ?? 0n) & (NODE_NETWORK | NODE_NETWORK_LIMITED)) !== 0n;
}

/** Core's fPreferredDownload: an outbound (or noban) peer that serves blocks. */
function preferredDownload(p: Peer): boolean {
  return (!p.inbound || p.noban) && canServeBlocks(p);
}

export class BlockSync {
  /** The peer of the initial headers sync (the one timed by headersMs), null when none. */
  syncPeer: Peer | null = null;
  private syncProgressAt = 0;
  /** Peers asked for headers since they connected (Core's fSyncStarted; its size nSyncStarted). */
  private readonly syncStarted = new Set<number>();
  /** Peers not syncing headers that an inv already made us ask (Core's
   * m_inv_triggered_getheaders_before_sync), and the block of the last such inv. */
  private readonly invTriggered = new Set<number>();
  private lastInvTrigger = '';
  /** Peers whose header chain is in pre-sync (below the anti-DoS work threshold). */
  private readonly presync = new Map<Peer, HeadersSyncState>();
  private readonly inFlight = new Map<string, { peer: Peer; height: number; at: number }>();
  private readonly held = new Map<string, HeldBlock>();
  /** Blocks handed to the chain in the call under way (neither held nor, until accepted, stored). */
  private readonly handing = new Set<string>();
  /** Blocks asked for by getblockfrompeer: handed to the chain on arrival, wherever they sit. */
  private readonly fetched = new Set<string>();
  private connecting = false;
  private connectAgain = false;
  private readonly rate: { t: number; h: number }[] = [];

  constructor(
    private readonly opts: P2PNodeOptions,
    private readonly chain: P2PChain,
    private readonly conn: ConnMan,
    private readonly timeouts: P2PTimeouts,
    private readonly log: Logger,
  ) {}

  private get window(): number {
    return this.opts.downloadWindow ?? 1024;
  }
  private get perPeer(): number {
    return this.opts.maxBlocksInFlightPerPeer ?? 16;
  }

  /** Forgets what a closed peer was doing. */
  dropPeer(peer: Peer): void {
    for (const [k, f] of this.inFlight)
      if (f.peer === peer) {
        this.inFlight.delete(k);
        this.fetched.delete(k);
      }
    if (this.syncPeer === peer) this.syncPeer = null;
    this.syncStarted.delete(peer.id);
    this.invTriggered.delete(peer.id);
    this.presync.delete(peer);
  }

  /** Heights of the blocks in flight from a peer, ascending. */
  /** How far `p`'s headers pre-sync has counted (Core's presynced_headers); -1 when none runs. */
  presyncedHeaders(p: Peer): number {
    return this.presync.get(p)?.presyncHeight ?? -1;
  }

  inFlightHeights(p: Peer): number[] {
    const out: number[] = [];
    if (p.blocksInFlight.size > 0) {
      for (const f of this.inFlight.values()) if (f.peer === p) out.push(f.height);
      out.sort((a, b) => a - b);
    }
    return out;
  }

  /** Records a new tip for the blocks-per-second rate. */
  recordTip(height: number): void {
    this.rate.push({ t: Date.now(), h: height });
    if (this.rate.length > 10_000) this.rate.splice(0, 5_000);
  }

  /** Block stalls and the headers-sync timeout. */
  checkTimeouts(now: number): void {
    for (const p of this.conn.peers.values()) {
      if (p.closed || !p.ready) continue;
      if (p.blocksInFlight.size > 0 && now - p.lastBlockProgress > this.timeouts.blockStallMs) {
        this.conn.disconnect(p, 'stalled block download');
      }
    }
    const sp = this.syncPeer;
    if (sp && now - this.syncProgressAt > this.timeouts.headersMs) {
      // As Core: once the best header is recent the timeout is off; before, the sync peer is
      // dropped only when another preferred peer can take over (never our only source).
      if (this.bestHeaderRecent(now)) this.syncPeer = null;
      else if (this.conn.readyPeers().some((p) => p !== sp && preferredDownload(p))) {
        this.conn.disconnect(sp, 'headers sync timeout');
        this.syncPeer = null;
      }
    }
  }

  /** Core's m_best_header->Time() > now - 24h. */
  private bestHeaderRecent(now = Date.now()): boolean {
    const time = this.chain.headerSummary(this.chain.headerTipHash())?.time ?? 0;
    return time > now / 1000 - RECENT_HEADER_AGE_S;
  }

  progress(): SyncProgress {
    const headers = this.chain.headerTipHeight();
    const blocks = this.chain.tipHeight();
    const now = Date.now();
    while (this.rate.length > 1 && now - this.rate[0].t > 30_000) this.rate.shift();
    let bps = 0;
    if (this.rate.length > 1) {
      const a = this.rate[0];
      const b = this.rate[this.rate.length - 1];
      if (b.t > a.t) bps = ((b.h - a.h) * 1000) / (b.t - a.t);
    }
    const ready = [...this.conn.peers.values()].filter((p) => p.ready);
    const peerHeight = Math.max(0, ...ready.map((p) => p.bestHeight));
    const syncing = blocks < headers || this.syncPeer !== null || peerHeight > headers;
    const target = Math.max(headers, peerHeight);
    return {
      headers,
      blocks,
      peers: ready.length,
      syncing,
      fraction: target > 0 ? Math.min(1, blocks / target) : 1,
      blocksPerSecond: bps,
      estimatedSecondsLeft: !syncing ? 0 : bps > 0 ? (target - blocks) / bps : null,
    };
  }

  // ---------------------------------------------------------------- headers

  /**
   * Core's "Start block sync" (SendMessages): a peer not yet asked is sent getheaders when no peer
   * has been (the first that may serve us: outbound, or inbound while no outbound one is there or
   * nothing is in flight), or to every peer while the best header is under 24 hours old. The
   * height a peer's version gave is not looked at: it is stale by the end of the handshake (a tip
   * mined meanwhile). Beyond Core, with no sync running and the best header old, a peer that
   * claims more height than our best header is asked too (Core waits for it to announce a block).
   */
  maybeStartHeadersSync(): void {
    if (this.conn.stopping) return;
    const ready = this.conn.readyPeers();
    const recent = this.bestHeaderRecent();
    const anyPreferred = ready.some(preferredDownload);
    for (const p of ready) {
      if (this.syncStarted.has(p.id) || !canServeBlocks(p)) continue;
      const first =
        this.syncStarted.size === 0 && (preferredDownload(p) || !anyPreferred || this.inFlight.size === 0);
      if (first || recent) this.startHeadersSync(p, recent);
    }
    if (this.syncPeer || recent) return;
    const ours = this.chain.headerTipHeight();
    let best: Peer | null = null;
    for (const p of ready) {
      if (this.syncStarted.has(p.id) || !canServeBlocks(p) || p.bestHeight <= ours) continue;
      if (!best || p.bestHeight > best.bestHeight) best = p;
    }
    if (best) this.startHeadersSync(best, false);
  }

  /**
   * Sends a peer its initial getheaders, from the best header's parent as Core (so a peer that has
   * our best header answers with at least that one). With an old best header it becomes the timed
   * sync peer when there is none.
   */
  private startHeadersSync(peer: Peer, recent: boolean): void {
    this.syncStarted.add(peer.id);
    const best = this.chain.headerTipHash();
    const from = this.chain.headerTipHeight() > 0 ? this.chain.getHeader(best)?.prevHash : undefined;
    const line = { peer: peer.label, ours: this.chain.headerTipHeight(), theirs: peer.bestHeight };
    if (!recent && !this.syncPeer) {
      this.syncPeer = peer;
      this.syncProgressAt = Date.now();
      this.log.info(line, 'syncing headers');
    } else this.log.debug(line, 'initial getheaders');
    this.getHeaders(peer, this.chain.getLocator(from ?? best));
  }

  /**
   * Core's answer to an inv of a block whose header is unknown (getheaders up to it): asked of a
   * peer whose headers sync started (not the running sync peer, which will reach it), and of one
   * more peer per new block while a single peer syncs, each such peer once: a sync peer that
   * stalls, and is kept as the only outbound one, does not hold the node back.
   */
  askHeadersForInv(peer: Peer, hash: Uint8Array): boolean {
    if (this.syncStarted.has(peer.id)) return peer !== this.syncPeer;
    const k = key(hash);
    if (this.invTriggered.has(peer.id) || k === this.lastInvTrigger) return false;
    this.invTriggered.add(peer.id);
    this.lastInvTrigger = k;
    return true;
  }

  private getHeaders(peer: Peer, locator: Uint8Array[]): void {
    peer.send({ command: 'getheaders', version: PROTOCOL_VERSION, locator, stop: nullHash });
  }

  async onHeaders(peer: Peer, headers: BlockHeader[]): Promise<void> {
    // Each header's hash (cached by the header) is taken HEADER_SLICE at a time with a turn
    // between slices: hashing 2,000 headers in one piece kept RPC and other peers waiting ~30 ms
    // under a low-work headers flood. Nothing is read or decided before the last turn.
    for (let i = HEADER_SLICE; i < headers.length; i += HEADER_SLICE) {
      for (let j = i - HEADER_SLICE; j < i; j++) headers[j].hash();
      await peer.yieldTurn();
      if (peer.closed) return;
    }
    if (peer === this.syncPeer) this.syncProgressAt = Date.now();
    const presync = this.presync.get(peer);
    if (presync) {
      await this.continuePresync(peer, presync, headers);
      return;
    }
    if (headers.length === 0) {
      this.finishHeadersSync(peer);
      return;
    }
    for (let i = 1; i < headers.length; i++) {
      if (!equalBytes(headers[i].prevHash, headers[i - 1].hash())) {
        this.conn.misbehave(peer, 20, 'non-continuous headers sequence');
        return;
      }
    }
    const start = this.chain.headerSummary(headers[0].prevHash);
    if (start === undefined) {
      // As Core: ask for the gap; a peer that keeps sending headers we cannot connect is scored.
      peer.unconnectingHeaders++;
      if (peer.unconnectingHeaders % 10 === 0) this.conn.misbehave(peer, 20, 'too many unconnecting headers');
      this.getHeaders(peer, this.chain.getLocator());
      return;
    }
    const last = headers[headers.length - 1];
    if (this.chain.headerHeight(last.hash()) === undefined) {
      // As Core's TryLowWorkHeadersSync: a chain that cannot yet reach the anti-DoS threshold is
      // never stored. A full batch starts pre-sync; a short one is the peer's whole chain: ignored.
      let claimed = start.chainWork;
      for (const h of headers) claimed += blockWork(h.bits);
      const threshold = this.chain.antiDoSWorkThreshold();
      if (claimed < threshold) {
        if (headers.length < MAX_HEADERS) {
          this.log.debug(
            { peer: peer.label, height: start.height + headers.length },
            'ignoring low-work headers',
          );
          if (peer === this.syncPeer) this.finishHeadersSync(peer);
          return;
        }
        const state = new HeadersSyncState({
          start,
          minimumWork: threshold,
          check: (prev, h) => this.chain.checkHeaderLink(prev, h),
          now: Math.floor(Date.now() / 1000),
          salt: randomBytes(16),
        });
        this.presync.set(peer, state);
        // Core: LogDebug(BCLog::NET): a peer may start one per connection.
        this.log.debug(
          { peer: peer.label, from: start.height, threshold: threshold.toString(16) },
          'low-work headers: pre-syncing before storing any',
        );
        await this.continuePresync(peer, state, headers);
        return;
      }
    }
    if (!(await this.storeHeaders(peer, headers))) return;
    if (headers.length === MAX_HEADERS) {
      this.getHeaders(peer, this.chain.getLocator(last.hash()));
    } else {
      // A short batch is the peer's tip: its whole chain is now known.
      if (this.chain.isInitialBlockDownload() && this.chain.belowMinimumWork?.(last.hash())) {
        this.conn.disconnect(peer, 'header chain below the minimum chain work');
        return;
      }
      if (peer === this.syncPeer) this.finishHeadersSync(peer);
    }
    this.scheduleDownloads();
  }

  /** Feeds a headers message to a peer's pre-sync; stores what it releases. */
  private async continuePresync(peer: Peer, state: HeadersSyncState, headers: BlockHeader[]): Promise<void> {
    // Linked and checked (proof of work, bits) HEADER_SLICE at a time with a turn between slices,
    // as the hashing above: a whole 2,000-header message in one piece kept RPC and other peers
    // waiting under a low-work headers flood. The peer's next message waits for this one.
    let r: HeadersSyncResult | undefined;
    for (let i = 0; i < headers.length && !r; i += HEADER_SLICE) {
      if (i > 0) {
        await peer.yieldTurn();
        if (peer.closed) return; // dropPeer forgets its state
      }
      r = state.feed(headers.slice(i, i + HEADER_SLICE));
    }
    r ??= state.conclude(headers.length === MAX_HEADERS);
    if (state.phase === 'final') this.presync.delete(peer);
    if (!r.ok) {
      // An invalid header costs what it costs outside pre-sync; a chain that changed between the
      // two passes or outruns the clock is only dropped, with the peer (Core aborts the sync).
      if (r.dos) this.conn.misbehave(peer, r.dos, `headers pre-sync: ${r.reason ?? 'aborted'}`);
      if (!peer.closed) this.conn.disconnect(peer, `headers pre-sync aborted: ${r.reason ?? ''}`);
      this.finishHeadersSync(peer);
      return;
    }
    if (r.lowWork) {
      // The peer made us count at least a full batch of a chain we will never use. Core only
      // drops the state; Tally also disconnects (no discouragement: the chain is valid, only weak).
      // Core's "Ignoring low-work chain" is a LogDebug(BCLog::NET) line.
      this.log.debug({ peer: peer.label, height: state.presyncHeight }, 'ignoring low-work header chain');
      this.finishHeadersSync(peer);
      this.conn.disconnect(peer, 'low-work header chain');
      return;
    }
    if (r.headers.length > 0 && !(await this.storeHeaders(peer, r.headers))) {
      this.presync.delete(peer);
      return;
    }
    if (!r.requestMore) {
      this.finishHeadersSync(peer);
    } else if (state.phase === 'final') {
      // Everything released and stored: the rest of the chain follows the ordinary way.
      this.getHeaders(peer, this.chain.getLocator(r.headers[r.headers.length - 1].hash()));
    } else {
      const from = state.continueFrom();
      const locator = [from, ...this.chain.getLocator(state.start.hash)];
      if (state.phase === 'redownload' && equalBytes(from, state.start.hash)) locator.shift();
      this.getHeaders(peer, locator);
    }
    if (r.headers.length > 0) this.scheduleDownloads();
  }

  /** Hands headers to the chain (consecutive, the first one's parent known); false when refused. */
  private async storeHeaders(peer: Peer, headers: BlockHeader[]): Promise<boolean> {
    const last = headers[headers.length - 1];
    const res = await this.chain.processHeaders(headers);
    if (!res.ok) {
      this.conn.rejected(peer, {
        kind: 'headers',
        reason: res.reason ?? 'rejected',
        dos: res.dos ?? 0,
        policy: false,
        hash: last.hashHex(),
      });
      if (res.dos) this.conn.misbehave(peer, res.dos, `invalid headers: ${res.reason ?? 'rejected'}`);
      else this.log.debug({ peer: peer.label, reason: res.reason }, 'headers not accepted');
      if (peer === this.syncPeer) this.finishHeadersSync(peer);
      return false;
    }
    peer.unconnectingHeaders = 0;
    for (const h of headers) {
      const hash = h.hash();
      peer.knownInv.add(hash);
      // A peer that now announces a block it once had not found can be asked for it again.
      peer.notFound.delete(key(hash));
    }
    const lastHeight = this.chain.headerHeight(last.hash()) ?? 0;
    peer.bestHeight = Math.max(peer.bestHeight, lastHeight);
    peer.syncedHeaders = Math.max(peer.syncedHeaders, lastHeight);
    return true;
  }

  private finishHeadersSync(peer: Peer): void {
    if (peer !== this.syncPeer) return;
    this.syncPeer = null;
    this.maybeStartHeadersSync();
  }

  // ---------------------------------------------------------------- blocks

  scheduleDownloads(): void {
    if (this.conn.stopping) return;
    const peers = this.conn.readyPeers().filter((p) => p.blocksInFlight.size < this.perPeer);
    if (peers.length === 0) return;
    const wanted = this.chain.blocksToDownload(this.window);
    const requests = new Map<Peer, InvItem[]>();
    const now = Date.now();
    let free = 0;
    for (const p of peers) free += this.perPeer - p.blocksInFlight.size;
    for (const w of wanted) {
      if (free === 0) break;
      const k = key(w.hash);
      if (this.inFlight.has(k) || this.held.has(k) || this.handing.has(k)) continue;
      let pick: Peer | null = null;
      for (const p of peers) {
        if (p.blocksInFlight.size >= this.perPeer || p.bestHeight < w.height || p.notFound.has(k)) continue;
        // Core's FindNextBlocksToDownload: a limited peer (pruned) is not asked for blocks it may
        // have pruned (288 below its best, less 2 for races).
        if (
          isLimitedPeer(p.version?.services ?? 0n) &&
          p.bestHeight - w.height >= NODE_NETWORK_LIMITED_MIN_BLOCKS - 2
        )
          continue;
        if (!pick || p.blocksInFlight.size < pick.blocksInFlight.size) pick = p;
      }
      if (!pick) continue;
      if (pick.blocksInFlight.size === 0) pick.lastBlockProgress = now;
      pick.blocksInFlight.set(k, now);
      free--;
      this.inFlight.set(k, { peer: pick, height: w.height, at: now });
      const list = requests.get(pick) ?? [];
      list.push({ type: InvType.BLOCK, hash: w.hash });
      requests.set(pick, list);
    }
    for (const [p, items] of requests) p.send({ command: 'getdata', items });
  }

  /**
   * Core's FetchBlock (getblockfrompeer): asks this peer for a block whose header is known, any
   * earlier request for it forgotten. The block is given to the chain when it comes even if it is
   * not on the way to the best header (a stale fork's block). Returns Core's error text, or null.
   */
  fetchBlock(peer: Peer, hash: Uint8Array, height: number): string | null {
    const k = key(hash);
    const f = this.inFlight.get(k);
    if (f?.peer === peer) return 'Already requested from this peer';
    f?.peer.blocksInFlight.delete(k);
    const now = Date.now();
    if (peer.blocksInFlight.size === 0) peer.lastBlockProgress = now;
    peer.blocksInFlight.set(k, now);
    this.inFlight.set(k, { peer, height, at: now });
    this.fetched.add(k);
    peer.send({ command: 'getdata', items: [{ type: InvType.BLOCK, hash }] });
    return null;
  }

  /** A peer's `notfound` for a block we asked it for: another peer must serve it. */
  onBlockNotFound(peer: Peer, k: string): void {
    const f = this.inFlight.get(k);
    if (f && f.peer === peer) {
      this.inFlight.delete(k);
      peer.blocksInFlight.delete(k);
      // Asking the same peer again would loop forever: another peer must serve this block.
      peer.notFound.add(k);
    }
  }

  async onBlock(peer: Peer, block: Block): Promise<void> {
    const hash = block.hash();
    const k = key(hash);
    const f = this.inFlight.get(k);
    if (!f || f.peer !== peer) {
      if (!this.chain.hasBlock(hash) && !this.held.has(k) && !this.handing.has(k))
        this.conn.misbehave(peer, 20, 'unrequested block');
      return;
    }
    this.inFlight.delete(k);
    peer.blocksInFlight.delete(k);
    peer.syncedHeaders = Math.max(peer.syncedHeaders, f.height);
    peer.lastBlockProgress = Date.now();
    peer.knownInv.add(hash);
    if (this.fetched.delete(k)) {
      const res = await this.chain.processBlock(block);
      if (res.dos) this.conn.misbehave(peer, res.dos, `invalid block: ${res.reason ?? 'rejected'}`);
      await this.connectHeld();
      return;
    }
    this.held.set(k, { block, from: peer });
    await this.connectHeld();
  }

  /**
   * Takes a held block to hand it to the chain: it is handing until the call ends, and `run`
   * keeps its hash and sender for the verdict. Null when the block is not held.
   */
  private handOver(hash: Uint8Array, run: RunBlock[]): Block | null {
    const k = key(hash);
    const h = this.held.get(k);
    if (!h) return null;
    this.held.delete(k);
    this.handing.add(k);
    run.push({ hash, from: h.from });
    return h.block;
  }

  /**
   * Tells the senders of blocks handed over what the chain made of them; true when a block it
   * refused without marking it invalid is still the next to fetch (the loop stops rather than
   * hand it over again).
   */
  private judged(run: readonly RunBlock[], results: readonly (Verdict & { accepted: boolean })[]): boolean {
    let rejected = false;
    for (let i = 0; i < run.length; i++) {
      const res = results[i];
      const { hash, from } = run[i];
      if (res.accepted) {
        from.lastBlockTime = Date.now();
        continue;
      }
      rejected = true;
      this.conn.rejected(from, {
        kind: 'block',
        reason: res.reason ?? 'rejected',
        dos: res.dos ?? 0,
        policy: false,
        hash: reverseHex(hash),
      });
      if (res.dos) this.conn.misbehave(from, res.dos, `invalid block: ${res.reason ?? 'rejected'}`);
      else this.log.debug({ reason: res.reason }, 'block not accepted');
    }
    if (!rejected) return false;
    const again = this.chain.blocksToDownload(1)[0];
    return again !== undefined && run.some((r) => equalBytes(again.hash, r.hash));
  }

  /** Hands held blocks to the chain in chain order, as far as the next missing one. */
  private async connectHeld(): Promise<void> {
    if (this.connecting) {
      this.connectAgain = true;
      return;
    }
    this.connecting = true;
    try {
      do {
        this.connectAgain = false;
        while (!this.conn.stopping) {
          // The held blocks next in chain order go to the chain together: it connects a run as a
          // pipeline (one block's checks and writes beside the scripts of the block before it),
          // and asks for the held blocks after it, one at a time, as its path reaches its end.
          const run: RunBlock[] = [];
          const blocks: Block[] = [];
          for (const next of this.chain.blocksToDownload(HANDOVER_RUN)) {
            const b = this.handOver(next.hash, run);
            if (!b) break;
            blocks.push(b);
          }
          if (blocks.length === 0) break;
          const supply = (): Block | null => {
            const next = this.conn.stopping ? undefined : this.chain.blocksToDownload(1)[0];
            return next ? this.handOver(next.hash, run) : null;
          };
          let results: (Verdict & { accepted: boolean })[];
          try {
            // The blocks go with the call (splice empties this array): nothing here holds them
            // while the chain connects them.
            results = await this.chain.processBlocks(blocks.splice(0), supply);
          } finally {
            for (const r of run) this.handing.delete(key(r.hash));
          }
          if (this.judged(run, results)) break;
        }
      } while (this.connectAgain && !this.conn.stopping);
      if (this.held.size > this.window) {
        const still = new Set(this.chain.blocksToDownload(this.window).map((w) => key(w.hash)));
        for (const k of this.held.keys()) if (!still.has(k)) this.held.delete(k);
      }
    } finally {
      this.connecting = false;
    }
    this.scheduleDownloads();
  }
}

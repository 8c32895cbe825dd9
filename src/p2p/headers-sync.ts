// Headers pre-sync (Bitcoin Core's HeadersSyncState, headerssync.cpp): a peer's header chain that
// forks below our anti-DoS work threshold is first only counted, then fetched again and handed to
// the chain, so a chain of cheap headers costs us a few bits per peer and never reaches the block
// index.
// PRESYNC: each header must link to the previous one, meet its proof of work and carry bits the
// difficulty rule permits after its parent; its work is summed. Every HEADER_COMMITMENT_PERIOD-th
// header (at a random offset) leaves one bit, a salted hash of it. Once the sum reaches the
// threshold the chain is proven: REDOWNLOAD asks for it again from the fork point, checks every
// header the same way and each commitment bit, and releases headers REDOWNLOAD_BUFFER_SIZE behind
// the newest (all of them once the work is reached again), so a peer that swaps the chain between
// the two passes is caught, with odds 2^-24, before anything is stored.
// Owns: one peer's pre-sync state (pure; the caller supplies the clock, the salt and the header
// check). Does not own: requesting headers, storing them, scoring (sync.ts).
// Memory per peer: one bit per 584 headers, at most 6 headers a second since the fork point (the
// most the median-time rule allows), and 13,959 headers while redownloading; as Core.
import type { BlockHeader } from '../primitives/block.js';
import { equalBytes } from '../primitives/bytes.js';
import { sha256 } from '../crypto/hash.js';
import { MAX_FUTURE_BLOCK_TIME } from '../consensus/block-check.js';
import { blockWork } from '../consensus/pow.js';
import type { HeaderSummary } from './ports.js';

/** Core's HEADER_COMMITMENT_PERIOD: one commitment bit per this many headers. */
export const HEADER_COMMITMENT_PERIOD = 584;
/** Core's REDOWNLOAD_BUFFER_SIZE: headers held back while redownloading (~24 commitments deep). */
export const REDOWNLOAD_BUFFER_SIZE = 13_959;
/** Median-time-past allows at most this many headers per second of chain time (Core's 6). */
const MAX_HEADERS_PER_SECOND = 6;

/** A known header the peer's chain forks from (its median time past bounds how many can follow). */
export type ChainStart = HeaderSummary;

export interface HeaderLink {
  hash: Uint8Array;
  height: number;
  time: number;
  bits: number;
}

/**
 * Proof of work and a permitted difficulty transition of `h` after `prev`; a reason when `h` is
 * invalid (the peer sent a header no honest chain holds).
 */
export type CheckHeader = (prev: HeaderLink, h: BlockHeader) => string | undefined;

export interface HeadersSyncOptions {
  start: ChainStart;
  /** Work the chain must reach to be stored (Core's GetAntiDoSWorkThreshold at the start). */
  minimumWork: bigint;
  check: CheckHeader;
  /** Seconds since the epoch (bounds the chain's length by time). */
  now: number;
  /** 16+ random bytes: the commitment hash and offset are unguessable to the peer. */
  salt: Uint8Array;
  /** Overrides for tests; default Core's. */
  commitmentPeriod?: number;
  redownloadBuffer?: number;
}

export interface HeadersSyncResult {
  /** False: the sync is aborted (reason says why; dos > 0 when the peer sent an invalid header). */
  ok: boolean;
  reason?: string;
  dos?: number;
  /** Ask the peer for more (the caller uses locatorHashes()). */
  requestMore: boolean;
  /** Headers whose chain has proven enough work, in order: hand them to the chain. */
  headers: BlockHeader[];
  /** The peer's chain ended in pre-sync below the work needed: nothing of it is kept. */
  lowWork?: boolean;
}

export type HeadersSyncPhase = 'presync' | 'redownload' | 'final';

export class HeadersSyncState {
  phase: HeadersSyncPhase = 'presync';
  readonly start: ChainStart;
  readonly minimumWork: bigint;
  private readonly check: CheckHeader;
  private readonly salt: Uint8Array;
  private readonly period: number;
  private readonly bufferSize: number;
  private readonly commitOffset: number;
  readonly maxCommitments: number;
  /** Commitment bits, one per period, appended in pre-sync and consumed in redownload. */
  private bits = new Uint8Array(64);
  private written = 0;
  private read = 0;
  private last: HeaderLink;
  /** Work of the chain counted so far in pre-sync (from genesis, as chainWork). */
  presyncWork: bigint;
  private rdLast: HeaderLink;
  private rdWork: bigint;
  private readonly buffer: BlockHeader[] = [];
  private processAll = false;
  /** Headers were fed since the last conclude. */
  private fed = false;

  constructor(o: HeadersSyncOptions) {
    this.start = o.start;
    this.minimumWork = o.minimumWork;
    this.check = o.check;
    this.salt = o.salt;
    this.period = o.commitmentPeriod ?? HEADER_COMMITMENT_PERIOD;
    this.bufferSize = o.redownloadBuffer ?? REDOWNLOAD_BUFFER_SIZE;
    const k = sha256(o.salt);
    this.commitOffset = (k[0] | (k[1] << 8)) % this.period;
    const seconds = Math.max(0, o.now - o.start.mtp) + MAX_FUTURE_BLOCK_TIME;
    this.maxCommitments = Math.floor((MAX_HEADERS_PER_SECOND * seconds) / this.period);
    this.last = { hash: o.start.hash, height: o.start.height, time: o.start.time, bits: o.start.bits };
    this.rdLast = this.last;
    this.presyncWork = o.start.chainWork;
    this.rdWork = o.start.chainWork;
  }

  /** Height of the last header counted in pre-sync (Core's presynced_headers). */
  get presyncHeight(): number {
    return this.last.height;
  }

  /** Bytes this state holds (commitment bits and the redownload buffer at 80 bytes a header). */
  get memoryBytes(): number {
    return this.bits.length + this.buffer.length * 80;
  }

  /** The hash to continue from: the last header counted (pre-sync) or redownloaded. */
  continueFrom(): Uint8Array {
    return this.phase === 'redownload' ? this.rdLast.hash : this.last.hash;
  }

  /** Feeds one `headers` message; `full` when it held the most a message may (more may follow). */
  process(headers: readonly BlockHeader[], full: boolean): HeadersSyncResult {
    return this.feed(headers) ?? this.conclude(full);
  }

  /**
   * Checks and counts (pre-sync) or buffers (redownload) part of one `headers` message, so the
   * caller can let other work run between parts; `conclude` once the whole message was fed.
   * Returns the abort when a header fails (nothing more may be fed then).
   */
  feed(headers: readonly BlockHeader[]): HeadersSyncResult | undefined {
    if (this.phase === 'final') return this.abort('headers sync already finished');
    if (headers.length === 0) return undefined;
    this.fed = true;
    const presync = this.phase === 'presync';
    for (const h of headers) {
      const bad = presync ? this.presyncOne(h) : this.redownloadOne(h);
      if (bad) return bad;
    }
    return undefined;
  }

  /** Decides on the message fed since the last call; `full` as in `process`. */
  conclude(full: boolean): HeadersSyncResult {
    if (this.phase === 'final') return this.abort('headers sync already finished');
    const fed = this.fed;
    this.fed = false;
    if (!fed) return this.abort(`peer sent no more headers in ${this.phase}`);
    if (this.phase === 'presync') {
      if (this.presyncWork >= this.minimumWork) {
        // Proven: fetch the same chain again from the fork point.
        this.phase = 'redownload';
        return { ok: true, requestMore: true, headers: [] };
      }
      if (full) return { ok: true, requestMore: true, headers: [] };
      this.phase = 'final';
      return { ok: true, requestMore: false, headers: [], lowWork: true, reason: 'low-work header chain' };
    }
    const ready: BlockHeader[] = [];
    let n = 0;
    while (this.buffer.length - n > this.bufferSize || (this.processAll && n < this.buffer.length)) n++;
    if (n > 0) ready.push(...this.buffer.splice(0, n));
    if (this.processAll && this.buffer.length === 0) {
      this.phase = 'final';
      return { ok: true, requestMore: full, headers: ready };
    }
    // A chain that stops short of the work it showed in pre-sync is not stored, not even its start.
    if (!full) return this.abort('peer stopped sending headers while redownloading');
    return { ok: true, requestMore: true, headers: ready };
  }

  private commitment(h: BlockHeader): number {
    const buf = new Uint8Array(this.salt.length + 32);
    buf.set(this.salt);
    buf.set(h.hash(), this.salt.length);
    return sha256(buf)[0] & 1;
  }

  private link(prev: HeaderLink, h: BlockHeader): HeaderLink | HeadersSyncResult {
    if (!equalBytes(h.prevHash, prev.hash)) return this.abort('non-continuous headers sequence', 20);
    const bad = this.check(prev, h);
    if (bad) return this.abort(`invalid header in ${this.phase}: ${bad}`, 100);
    return { hash: h.hash(), height: prev.height + 1, time: h.time, bits: h.bits };
  }

  private presyncOne(h: BlockHeader): HeadersSyncResult | undefined {
    const next = this.link(this.last, h);
    if ('ok' in next) return next;
    if (next.height % this.period === this.commitOffset) {
      if (this.written >= this.maxCommitments) {
        return this.abort(
          'more headers than the time since the fork point allows (exceeded max commitments)',
        );
      }
      if (this.written >> 3 >= this.bits.length) {
        const grown = new Uint8Array(this.bits.length * 2);
        grown.set(this.bits);
        this.bits = grown;
      }
      if (this.commitment(h)) this.bits[this.written >> 3] |= 1 << (this.written & 7);
      this.written++;
    }
    this.presyncWork += blockWork(h.bits);
    this.last = next;
    return undefined;
  }

  private redownloadOne(h: BlockHeader): HeadersSyncResult | undefined {
    const next = this.link(this.rdLast, h);
    if ('ok' in next) return next;
    this.rdWork += blockWork(h.bits);
    if (this.rdWork >= this.minimumWork) this.processAll = true;
    if (next.height % this.period === this.commitOffset && !this.processAll) {
      if (this.read >= this.written) return this.abort('commitment overrun: more headers than in pre-sync');
      const expected = (this.bits[this.read >> 3] >> (this.read & 7)) & 1;
      this.read++;
      if (this.commitment(h) !== expected) return this.abort('commitment mismatch: the chain changed');
    }
    this.buffer.push(h);
    this.rdLast = next;
    return undefined;
  }

  private abort(reason: string, dos = 0): HeadersSyncResult {
    this.phase = 'final';
    this.buffer.length = 0;
    this.bits = new Uint8Array(0);
    return { ok: false, reason, dos, requestMore: false, headers: [] };
  }
}

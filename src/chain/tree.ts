// The block tree: every known header (linked to its parent), the active chain, the candidate
// tips that have all their bodies, bodies waiting on a parent's body, orphan blocks, and the
// invalid marks with their reasons. Accepting headers and choosing the most-work candidate live
// here; connecting blocks does not (see activation.ts).
import type { Block, BlockHeader } from '../primitives/block.js';
import { BoundedMap } from '../primitives/bounded.js';
import { reverseHex } from '../primitives/bytes.js';
import type { ChainParams } from '../consensus/params.js';
import { blockWork } from '../consensus/pow.js';
import { getNextWorkRequired } from '../consensus/retarget.js';
import { type RejectError, consensusError } from '../consensus/errors.js';
import { checkBlockHeader, contextualCheckBlockHeader } from '../consensus/block-check.js';
import { BlockEntry, findFork, medianTimePast } from './block-index.js';
import { BlockStatus, type StoreBatch } from './ports.js';
import type { Logger } from '../primitives/logger.js';
import type { ChainTip } from './types.js';

export class BlockTree {
  readonly index = new Map<string, BlockEntry>();
  private active: BlockEntry[] = [];
  readonly candidates = new Set<BlockEntry>();
  /** Entries with data whose parent lacks chain data, by parent. */
  private readonly unlinked = new Map<BlockEntry, BlockEntry[]>();
  private readonly orphans: BoundedMap<string, Block>;
  readonly failReasons = new Map<BlockEntry, RejectError>();
  bestHeader!: BlockEntry;
  /** The next arrival number (ties between equal-work tips go to the first received). */
  sequence = 1;

  constructor(
    private readonly params: ChainParams,
    private readonly now: () => number,
    maxOrphans: number,
    private readonly log?: Logger,
  ) {
    // At least one: the orphan waiting for its parent is the one just received.
    this.orphans = new BoundedMap(Math.max(1, Math.floor(maxOrphans)));
  }

  get tip(): BlockEntry {
    return this.active[this.active.length - 1];
  }

  get height(): number {
    return this.active.length - 1;
  }

  get genesis(): BlockEntry {
    return this.active[0];
  }

  getEntry(hash: Uint8Array | string): BlockEntry | undefined {
    return this.index.get(typeof hash === 'string' ? hash : reverseHex(hash));
  }

  add(e: BlockEntry): void {
    this.index.set(e.hashHex, e);
  }

  atHeight(height: number): BlockEntry | undefined {
    return this.active[height];
  }

  isOnActiveChain(e: BlockEntry): boolean {
    return this.active[e.height] === e;
  }

  setActive(tip: BlockEntry): void {
    const arr = new Array<BlockEntry>(tip.height + 1);
    for (let e: BlockEntry | null = tip; e; e = e.prev) arr[e.height] = e;
    this.active = arr;
  }

  pushActive(e: BlockEntry): void {
    this.active.push(e);
  }

  popActive(): void {
    this.active.pop();
  }

  /** Block locator from `from` (default the tip): the last 10 hashes, then exponentially sparser. */
  getLocator(from: BlockEntry = this.tip): Uint8Array[] {
    const out: Uint8Array[] = [];
    let step = 1;
    for (let e: BlockEntry | null = from; e;) {
      out.push(e.hash);
      if (e.height === 0) break;
      const h = Math.max(e.height - step, 0);
      e = this.isOnActiveChain(e) ? this.active[h] : e.getAncestor(h);
      if (out.length > 10) step *= 2;
    }
    return out;
  }

  /** The last locator entry on the active chain (genesis if none). */
  findFork(locator: readonly Uint8Array[]): BlockEntry {
    for (const h of locator) {
      const e = this.getEntry(h);
      if (e && this.isOnActiveChain(e)) return e;
    }
    return this.active[0];
  }

  /** Bits required for the block after `prev` (default the tip). */
  nextWorkRequired(prev: BlockEntry = this.tip): number {
    return getNextWorkRequired(prev, (h) => prev.getAncestor(h)!, this.params);
  }

  getChainTips(): ChainTip[] {
    const hasChild = new Set<BlockEntry>();
    for (const e of this.index.values()) if (e.prev) hasChild.add(e.prev);
    const tips: ChainTip[] = [];
    for (const e of this.index.values()) {
      if (hasChild.has(e) && e !== this.tip) continue;
      const fork = findFork(e, this.tip);
      let status: ChainTip['status'];
      if (e === this.tip) status = 'active';
      else if (e.isFailed()) status = 'invalid';
      else if (!e.haveChainData) status = 'headers-only';
      else if (e.status & BlockStatus.VALID_SCRIPTS) status = 'valid-fork';
      else status = 'valid-headers';
      tips.push({ height: e.height, hash: e.hashHex, branchlen: e.height - fork.height, status });
    }
    return tips.sort((a, b) => b.height - a.height);
  }

  // ---- headers ----

  /** Adds a header that extends a known one (checks it first); a known header is returned as is. */
  acceptHeader(h: BlockHeader, batch: StoreBatch): { entry: BlockEntry; added: boolean } {
    const hash = h.hash();
    const known = this.getEntry(hash);
    if (known) {
      if (known.isFailed()) throw consensusError('duplicate-invalid', known.hashHex, 0);
      return { entry: known, added: false };
    }
    checkBlockHeader(h, this.params);
    const prev = this.getEntry(h.prevHash);
    if (!prev) throw consensusError('prev-blk-not-found', reverseHex(h.prevHash), 10);
    if (prev.isFailed()) throw consensusError('bad-prevblk', prev.hashHex);
    contextualCheckBlockHeader(
      h,
      {
        height: prev.height + 1,
        medianTimePast: medianTimePast(prev),
        expectedBits: this.nextWorkRequired(prev),
      },
      this.params,
      this.now(),
    );
    const e = new BlockEntry(
      hash,
      h,
      prev.height + 1,
      prev.chainWork + blockWork(h.bits),
      prev,
      BlockStatus.VALID_HEADER,
      0,
    );
    this.add(e);
    batch.putIndex(e.hash, e.record());
    if (e.chainWork > this.bestHeader.chainWork) this.bestHeader = e;
    return { entry: e, added: true };
  }

  // ---- orphans and bodies ----

  get orphanCount(): number {
    return this.orphans.size;
  }

  addOrphan(block: Block): void {
    const k = block.hashHex();
    if (this.orphans.has(k)) return;
    this.orphans.set(k, block); // past maxOrphans the oldest goes
  }

  /** Removes and returns the orphans whose parent is `parentHex`. */
  takeOrphansOf(parentHex: string): [string, Block][] {
    const out: [string, Block][] = [];
    for (const [k, b] of this.orphans) {
      if (reverseHex(b.header.prevHash) !== parentHex) continue;
      this.orphans.delete(k);
      out.push([k, b]);
    }
    return out;
  }

  addUnlinked(e: BlockEntry): void {
    const list = this.unlinked.get(e.prev!) ?? [];
    list.push(e);
    this.unlinked.set(e.prev!, list);
  }

  /** A body arrived: it and any children waiting on it may now be tips. */
  receivedData(entry: BlockEntry): void {
    if (!entry.prev!.haveChainData) {
      this.addUnlinked(entry);
      return;
    }
    const queue = [entry];
    while (queue.length > 0) {
      const e = queue.shift()!;
      e.haveChainData = true;
      if (!e.isFailed() && e.chainWork >= this.tip.chainWork) this.candidates.add(e);
      const kids = this.unlinked.get(e);
      if (kids) {
        this.unlinked.delete(e);
        queue.push(...kids);
      }
    }
  }

  /** After loading the index: which entries have all their bodies, and which wait on a parent. */
  linkLoaded(): void {
    // A pruned body was stored and connected once: its descendants still have chain data.
    const had = (e: BlockEntry): boolean => e.hasData() || (e.status & BlockStatus.PRUNED) !== 0;
    for (const e of [...this.index.values()].sort((a, b) => a.height - b.height)) {
      if (!e.prev) e.haveChainData = had(e);
      else if (had(e)) {
        if (e.prev.haveChainData) e.haveChainData = true;
        else this.addUnlinked(e);
      }
    }
    this.rebuildCandidates();
    this.bestHeader = this.computeBestHeader();
  }

  // ---- validity ----

  markFailed(e: BlockEntry, err: RejectError, batch: StoreBatch): void {
    e.status |= BlockStatus.FAILED;
    this.failReasons.set(e, err);
    batch.putIndex(e.hash, e.record());
    this.candidates.delete(e);
    for (const d of this.index.values()) {
      if (d.height > e.height && d.getAncestor(e.height) === e && !(d.status & BlockStatus.FAILED_CHILD)) {
        d.status |= BlockStatus.FAILED_CHILD;
        batch.putIndex(d.hash, d.record());
        this.candidates.delete(d);
      }
    }
    if (this.bestHeader.isFailed()) this.bestHeader = this.computeBestHeader();
    this.log?.warn({ hash: e.hashHex, height: e.height, reason: err.reason }, 'block marked invalid');
  }

  /** Clears the invalid marks of a block, its ancestors and descendants (reconsiderblock). */
  clearFailed(e: BlockEntry, batch: StoreBatch): void {
    const clear = (x: BlockEntry): void => {
      if (!x.isFailed()) return;
      x.status &= ~(BlockStatus.FAILED | BlockStatus.FAILED_CHILD);
      this.failReasons.delete(x);
      batch.putIndex(x.hash, x.record());
    };
    for (const d of this.index.values()) if (d.height >= e.height && d.getAncestor(e.height) === e) clear(d);
    for (let a: BlockEntry | null = e.prev; a; a = a.prev) clear(a);
  }

  /** Why an entry is invalid: its own failure or that of the ancestor that failed. */
  failureOf(e: BlockEntry): RejectError | undefined {
    if (!e.isFailed()) return undefined;
    for (let a: BlockEntry | null = e; a; a = a.prev) {
      const err = this.failReasons.get(a);
      if (err) return a === e ? err : consensusError('bad-prevblk', `ancestor ${a.hashHex}: ${err.reason}`);
    }
    return consensusError('duplicate-invalid', e.hashHex, 0);
  }

  computeBestHeader(): BlockEntry {
    let best = this.active[0];
    for (const e of this.index.values()) if (!e.isFailed() && e.chainWork > best.chainWork) best = e;
    return best;
  }

  // ---- candidates ----

  rebuildCandidates(): void {
    this.candidates.clear();
    for (const e of this.index.values())
      if (e.haveChainData && !e.isFailed() && e.chainWork >= this.tip.chainWork) this.candidates.add(e);
  }

  /** Adds every valid entry with all its bodies and more work than the tip (after invalidation). */
  addStrongerCandidates(): void {
    for (const c of this.index.values())
      if (c.haveChainData && !c.isFailed() && c.chainWork > this.tip.chainWork) this.candidates.add(c);
  }

  /** The candidate with the most work; the first received among equals (Core's nSequenceId). */
  pickCandidate(): BlockEntry | undefined {
    let best: BlockEntry | undefined;
    for (const c of this.candidates) {
      if (
        !best ||
        c.chainWork > best.chainWork ||
        (c.chainWork === best.chainWork && c.sequence < best.sequence)
      )
        best = c;
    }
    return best;
  }

  pruneCandidates(): void {
    for (const c of [...this.candidates]) if (c.chainWork < this.tip.chainWork) this.candidates.delete(c);
  }
}

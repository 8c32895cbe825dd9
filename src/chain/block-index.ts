// The in-memory header index: one entry per known header, linked to its parent, with Bitcoin
// Core's skip pointers so any ancestor is found in O(log n) steps (deep reorgs and retargeting
// ask for ancestors far back).
import type { BlockHeader } from '../primitives/block.js';
import { reverseHex } from '../primitives/bytes.js';
import { MEDIAN_TIME_SPAN, medianTimePast as medianOfTimes } from '../consensus/median-time.js';
import { BlockStatus, type IndexRecord } from './ports.js';

export class BlockEntry {
  readonly hashHex: string;
  skip: BlockEntry | null = null;
  /** All ancestors have their bodies stored (Core's nChainTx != 0), so this can be a tip. */
  haveChainData = false;
  constructor(
    readonly hash: Uint8Array,
    readonly header: BlockHeader,
    readonly height: number,
    readonly chainWork: bigint,
    readonly prev: BlockEntry | null,
    public status: number,
    public sequence: number,
  ) {
    this.hashHex = reverseHex(hash);
    if (prev) this.skip = prev.getAncestor(skipHeight(height));
  }

  get time(): number {
    return this.header.time;
  }
  get bits(): number {
    return this.header.bits;
  }
  hasData(): boolean {
    return (this.status & BlockStatus.HAVE_DATA) !== 0;
  }
  /** The body was stored and connected, then pruned (Core's IsBlockPruned). */
  isPruned(): boolean {
    return (this.status & BlockStatus.PRUNED) !== 0 && !this.hasData();
  }
  isFailed(): boolean {
    return (this.status & (BlockStatus.FAILED | BlockStatus.FAILED_CHILD)) !== 0;
  }

  getAncestor(height: number): BlockEntry | null {
    if (height > this.height || height < 0) return null;
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    let walk: BlockEntry = this;
    let h = this.height;
    while (h > height) {
      const hs = skipHeight(h);
      const hsPrev = skipHeight(h - 1);
      if (walk.skip && (hs === height || (hs > height && !(hsPrev < hs - 2 && hsPrev >= height)))) {
        walk = walk.skip;
        h = hs;
      } else {
        walk = walk.prev!;
        h--;
      }
    }
    return walk;
  }

  record(): IndexRecord {
    return {
      header: this.header,
      height: this.height,
      chainWork: this.chainWork,
      status: this.status,
      sequence: this.sequence,
    };
  }
}

function invertLowestOne(n: number): number {
  return n & (n - 1);
}

/** Core's GetSkipHeight: a height to jump to that keeps ancestor walks logarithmic. */
function skipHeight(height: number): number {
  if (height < 2) return 0;
  return height & 1 ? invertLowestOne(invertLowestOne(height - 1)) + 1 : invertLowestOne(height);
}

/** Last common ancestor of two entries. */
export function findFork(a: BlockEntry, b: BlockEntry): BlockEntry {
  let x: BlockEntry | null = a.height > b.height ? a.getAncestor(b.height) : a;
  let y: BlockEntry | null = b.height > a.height ? b.getAncestor(a.height) : b;
  while (x && y && x !== y) {
    x = x.prev;
    y = y.prev;
  }
  if (!x || x !== y) throw new Error('entries share no ancestor');
  return x;
}

/** Median of the last 11 block times ending at `entry` (BIP113's median time past). */
export function medianTimePast(entry: BlockEntry | null): number {
  const times: number[] = [];
  for (let e = entry, i = 0; e && i < MEDIAN_TIME_SPAN; e = e.prev, i++) times.push(e.time);
  return medianOfTimes(times);
}

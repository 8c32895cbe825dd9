// The optional indexes' common part (Bitcoin Core's BaseIndex): each index keeps its own
// LevelDB under DATADIR/indexes/NAME with the block it has reached, builds in the background
// from stored blocks, follows the tip afterwards, and after a reorg (while running or while
// stopped) steps back to the fork before going on. One loop does all of it, one block per write
// batch (data and "best block" together), so a crash leaves the index at a block it finished.
// Fails soft: a block that cannot be read stops the index with a logged error; the node goes on
// and getindexinfo shows it as not synced. A write that fails is also told to onFailure, where the
// node stops for a full disk (Core's AbortNode), the batch unwritten and the index at its last block.
// On a pruned node each index holds a prune lock at its best block (Core's UpdatePruneLock), so the
// blocks it has not indexed yet are not pruned, and init() refuses to start an index whose next
// blocks are already gone, with Core's line; an index that stops with an error releases its lock.
import { ClassicLevel } from 'classic-level';
import type { Logger } from '../primitives/logger.js';
import type { Block } from '../primitives/block.js';
import type { BlockUndo } from '../chain/ports.js';
import type { IndexBlockRef, IndexChain } from './ports.js';

const BEST = Uint8Array.of(0x42); // 'B': hash (32) + height (4, LE)

/** How long an index waits for the undo data of a block the chain has just made active. */
const UNDO_WAIT_MS = 10_000;

export type Put = [key: Uint8Array, value: Uint8Array];

export interface IndexInfo {
  synced: boolean;
  best_block_height: number;
}

export abstract class BaseIndex {
  protected best: IndexBlockRef | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private closed = false;
  private failed = false;
  private initialized = false;
  private unsubscribe: (() => void) | null = null;
  /** Told why the index stopped (set by openIndex). */
  onFailure?: (err: unknown) => void;

  constructor(
    protected readonly db: ClassicLevel<Uint8Array, Uint8Array>,
    protected readonly chain: IndexChain,
    protected readonly log?: Logger,
  ) {}

  /** Core's name for the index (getindexinfo's key). */
  abstract readonly name: string;
  /** Whether the index needs the blocks' undo data (the spent coins). */
  protected abstract readonly needsUndo: boolean;
  /** The writes that index one block on top of `this.best`. */
  protected abstract blockPuts(block: Block, ref: IndexBlockRef, undo: BlockUndo | undefined): Promise<Put[]>;

  /** Core's BaseIndex::Init (and init.cpp's prune check): loads the best block; on a pruned node,
   * refuses (throws Core's line, writing nothing) when a block the index still needs is pruned,
   * and otherwise locks the blocks above its best block against pruning. Call before the chain
   * moves its tip (start() calls it if not done). */
  async init(): Promise<void> {
    if (this.initialized) return;
    const b = await this.db.get(BEST);
    if (b !== undefined && b.length === 36)
      this.best = { hash: b.slice(0, 32), height: Buffer.from(b).readUInt32LE(32) };
    // The index goes on from where its best block meets the active chain (genesis if nowhere).
    let from = this.best;
    while (from !== null && !this.chain.isActive(from.hash)) from = this.chain.parent(from.hash) ?? null;
    const pruned = this.chain.pruneHeight();
    if (pruned !== null && (from?.height ?? 0) <= pruned)
      throw new Error(
        `${this.name} best block of the index goes beyond pruned data. Please disable the index or reindex (which will download the whole blockchain again)`,
      );
    this.chain.setPruneLock(this.name, from?.height ?? 0);
    this.initialized = true;
  }

  /** Loads the best block (init) and starts catching up in the background. */
  async start(): Promise<void> {
    await this.init();
    this.unsubscribe = this.chain.onTip(() => this.kick());
    this.kick();
  }

  info(): IndexInfo {
    const tip = this.chain.tip();
    const height = this.best?.height ?? -1;
    return {
      synced:
        !this.failed && this.best !== null && height === tip.height && this.chain.isActive(this.best.hash),
      best_block_height: height,
    };
  }

  /** Resolves once the index has reached the current tip (tests, getindexinfo waits). */
  async whenIdle(): Promise<void> {
    while (this.running) await this.running;
  }

  private kick(): void {
    if (this.closed || this.failed) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.catchUp()
      .catch((err: unknown) => {
        if (this.closed) return;
        this.failed = true;
        // A stopped index keeps no blocks from pruning (Core's index stops and its lock goes).
        this.chain.removePruneLock(this.name);
        this.log?.error({ err, index: this.name }, 'index stopped');
        this.onFailure?.(err);
      })
      .finally(() => {
        this.running = null;
        if (this.again) {
          this.again = false;
          this.kick();
        }
      });
  }

  private async catchUp(): Promise<void> {
    for (;;) {
      if (this.closed) return;
      // Step back off a branch the chain left (Core's Rewind); data keyed by block stays valid.
      while (this.best !== null && !this.chain.isActive(this.best.hash)) {
        const parent = this.chain.parent(this.best.hash);
        await this.writeBest(parent ?? null, []);
      }
      const next = this.chain.atHeight((this.best?.height ?? -1) + 1);
      if (!next) return;
      const block = await this.chain.getBlock(next.hash);
      if (!block) throw new Error(`block ${Buffer.from(next.hash).reverse().toString('hex')} is not stored`);
      let undo = this.needsUndo && next.height > 0 ? await this.chain.getUndo(next.hash) : undefined;
      // The chain makes a block active before the batch holding its undo data is written (a connect
      // in flight, seen beside two CPU burners): wait for that write (UNDO_WAIT_MS at most) rather
      // than stop the index; still missing after that, it is missing.
      for (let waited = 0; this.needsUndo && next.height > 0 && undo === undefined; waited += 50) {
        if (waited >= UNDO_WAIT_MS || this.closed || !this.chain.isActive(next.hash)) break;
        await new Promise((r) => setTimeout(r, 50));
        undo = await this.chain.getUndo(next.hash);
      }
      // The chain may have moved while the block was read: index it only if it still follows best.
      if (!this.chain.isActive(next.hash)) continue;
      await this.writeBest(next, await this.blockPuts(block, next, undo));
      this.log?.debug({ index: this.name, height: next.height }, 'block indexed');
    }
  }

  private async writeBest(ref: IndexBlockRef | null, puts: Put[]): Promise<void> {
    const batch = this.db.batch();
    for (const [k, v] of puts) batch.put(k, v);
    if (ref === null) batch.del(BEST);
    else {
      const v = Buffer.alloc(36);
      v.set(ref.hash, 0);
      v.writeUInt32LE(ref.height, 32);
      batch.put(BEST, Uint8Array.from(v));
    }
    await batch.write();
    this.best = ref;
    this.chain.setPruneLock(this.name, ref?.height ?? 0);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.unsubscribe?.();
    await this.whenIdle();
    await this.db.close();
  }
}

/** Opens (creating if needed) an index's database at `dir`; one line naming the path if it cannot.
 * `onFailure` hears why the index stopped, with its folder. */
export async function openIndex<T extends BaseIndex>(
  Index: new (db: ClassicLevel<Uint8Array, Uint8Array>, chain: IndexChain, log?: Logger) => T,
  dir: string,
  chain: IndexChain,
  log?: Logger,
  onFailure?: (err: unknown, dir: string) => void,
): Promise<T> {
  const db = new ClassicLevel<Uint8Array, Uint8Array>(dir, { keyEncoding: 'view', valueEncoding: 'view' });
  try {
    await db.open();
  } catch (e) {
    throw new Error(`cannot open index database ${dir}: ${(e as Error).message}`);
  }
  const index = new Index(db, chain, log);
  if (onFailure) index.onFailure = (err) => onFailure(err, dir);
  return index;
}

// In-memory chain and mempool behind p2p's ports, for P2P tests. The chain really checks header
// linkage, proof of work against the header's bits (regtest-easy 0x207fffff only) and the block's
// merkle root, keeps the most-work header chain, and connects bodies along it in order.
import { Block, BlockHeader } from '../../src/primitives/block.js';
import { bytesToHex } from '../../src/primitives/bytes.js';
import { blockWork, compactToTarget, hashToBigInt } from '../../src/consensus/pow.js';
import { computeMerkleRoot } from '../../src/primitives/merkle.js';
import { OutPoint, Tx, TxIn, TxOut, NULL_HASH } from '../../src/primitives/tx.js';
import type { HeaderSummary, P2PChain, P2PMempool, Verdict } from '../../src/p2p/ports.js';

export const EASY_BITS = 0x207fffff;
/** Half the target of EASY_BITS: a block with it has twice the work, so a branch ending in
 * one outweighs an EASY_BITS branch of the same height (no retargeting rule here). */
export const HARDER_BITS = 0x203fffff;
const GENESIS_TIME = 1_700_000_000;

export function checkPow(hash: Uint8Array, bits: number): boolean {
  const { target, negative, overflow } = compactToTarget(bits);
  return !negative && !overflow && target > 0n && hashToBigInt(hash) <= target;
}

const work = blockWork;

export function coinbase(height: number, tag = 0): Tx {
  const script = new Uint8Array(8);
  new DataView(script.buffer).setUint32(0, height, true);
  new DataView(script.buffer).setUint32(4, tag, true);
  return new Tx(
    1,
    [new TxIn(new OutPoint(NULL_HASH, 0xffffffff), script)],
    [new TxOut(50n, Uint8Array.of(0x51))],
    0,
  );
}

/** Finds a nonce meeting `bits` (about two tries at the easy target). */
export function mineHeader(
  prev: Uint8Array,
  merkleRoot: Uint8Array,
  time: number,
  bits = EASY_BITS,
): BlockHeader {
  for (let nonce = 0; ; nonce++) {
    const h = new BlockHeader(1, prev, merkleRoot, time, bits, nonce);
    if (checkPow(h.hash(), bits)) return h;
  }
}

/** A header that fails proof of work at the easy target. */
export function badPowHeader(prev: Uint8Array, time: number): BlockHeader {
  for (let nonce = 0; ; nonce++) {
    const h = new BlockHeader(1, prev, new Uint8Array(32).fill(7), time, EASY_BITS, nonce);
    if (!checkPow(h.hash(), EASY_BITS)) return h;
  }
}

export function makeBlock(
  prev: Uint8Array,
  height: number,
  txs: Tx[] = [],
  tag = 0,
  bits = EASY_BITS,
): Block {
  const all = [coinbase(height, tag), ...txs];
  const root = computeMerkleRoot(all.map((t) => t.txid())).root;
  return new Block(mineHeader(prev, root, GENESIS_TIME + height * 600 + tag, bits), all);
}

let genesisBlock: Block | undefined;
export function genesis(): Block {
  genesisBlock ??= makeBlock(new Uint8Array(32), 0);
  return genesisBlock;
}

/** `n` blocks on top of genesis (cached per tag: tests share them). */
const built = new Map<string, Block[]>();
export function buildChain(n: number, tag = 0): Block[] {
  const id = `${n}:${tag}`;
  let out = built.get(id);
  if (!out) {
    out = [];
    let prev = genesis().hash();
    for (let h = 1; h <= n; h++) {
      const b = makeBlock(prev, h, [], tag);
      out.push(b);
      prev = b.hash();
    }
    built.set(id, out);
  }
  return out;
}

interface Entry {
  key: string;
  header: BlockHeader;
  hash: Uint8Array;
  height: number;
  work: bigint;
  parent: Entry | null;
  invalid: boolean;
}

const k = bytesToHex;

export class FakeChain implements P2PChain {
  private readonly entries = new Map<string, Entry>();
  private readonly bodies = new Map<string, Block>();
  private readonly active: Entry[] = [];
  private best: Entry;
  private readonly tipListeners = new Set<(hash: Uint8Array, height: number) => void>();
  private pathCache: Entry[] | null = null;
  processedBlocks = 0;

  constructor() {
    const g = genesis();
    const e: Entry = {
      key: k(g.hash()),
      header: g.header,
      hash: g.hash(),
      height: 0,
      work: work(g.header.bits),
      parent: null,
      invalid: false,
    };
    this.entries.set(k(e.hash), e);
    this.bodies.set(k(e.hash), g);
    this.active.push(e);
    this.best = e;
  }

  /** Headers chains with less work than this many easy blocks are too weak (0 = no minimum). */
  minimumBlocks = 0;

  belowMinimumWork(hash: Uint8Array): boolean {
    const e = this.entries.get(k(hash));
    return e !== undefined && e.work < work(EASY_BITS) * BigInt(this.minimumBlocks + 1);
  }

  /** Work a new header chain must reach before it is stored (0 = none: no pre-sync). */
  antiDoSWork = 0n;
  /** Headers handed to processHeaders, all told (pre-synced headers reach it only once proven). */
  headersProcessed = 0;

  antiDoSWorkThreshold(): bigint {
    return this.antiDoSWork;
  }
  headerSummary(hash: Uint8Array): HeaderSummary | undefined {
    const e = this.entries.get(k(hash));
    if (!e) return undefined;
    const { time, bits } = e.header;
    return { hash: e.hash, height: e.height, time, bits, mtp: time, chainWork: e.work };
  }
  checkHeaderLink(_prev: { bits: number }, h: BlockHeader): string | undefined {
    if (h.bits !== EASY_BITS) return 'bad-diffbits';
    return checkPow(h.hash(), h.bits) ? undefined : 'high-hash';
  }

  tipHeight(): number {
    return this.active.length - 1;
  }
  tipHash(): Uint8Array {
    return this.active[this.active.length - 1].hash;
  }
  headerTipHeight(): number {
    return this.best.height;
  }
  headerTipHash(): Uint8Array {
    return this.best.hash;
  }
  isOnActiveChain(hash: Uint8Array): boolean {
    const e = this.entries.get(k(hash));
    return e !== undefined && this.active[e.height] === e;
  }
  headerHeight(hash: Uint8Array): number | undefined {
    return this.entries.get(k(hash))?.height;
  }
  getHeader(hash: Uint8Array): BlockHeader | undefined {
    return this.entries.get(k(hash))?.header;
  }
  hasBlock(hash: Uint8Array): boolean {
    return this.bodies.has(k(hash));
  }
  async getBlockBytes(hash: Uint8Array): Promise<Uint8Array | null> {
    return this.bodies.get(k(hash))?.encode() ?? null;
  }
  isInitialBlockDownload(): boolean {
    return this.tipHeight() < this.headerTipHeight();
  }
  onTip(cb: (hash: Uint8Array, height: number) => void): () => void {
    this.tipListeners.add(cb);
    return () => this.tipListeners.delete(cb);
  }

  getLocator(from?: Uint8Array): Uint8Array[] {
    let e: Entry | null | undefined = from ? this.entries.get(k(from)) : this.best;
    const out: Uint8Array[] = [];
    let step = 1;
    while (e) {
      out.push(e.hash);
      if (out.length >= 10) step *= 2;
      for (let i = 0; i < step && e; i++) e = e.parent;
    }
    if (out.length === 0 || k(out[out.length - 1]) !== k(this.active[0].hash)) out.push(this.active[0].hash);
    return out;
  }

  getHeadersAfter(locator: Uint8Array[], stop: Uint8Array, max: number): BlockHeader[] {
    let start = 0;
    for (const h of locator) {
      const e = this.entries.get(k(h));
      if (e && this.active[e.height] === e) {
        start = e.height;
        break;
      }
    }
    const out: BlockHeader[] = [];
    const stopKey = k(stop);
    for (let h = start + 1; h < this.active.length && out.length < max; h++) {
      out.push(this.active[h].header);
      if (k(this.active[h].hash) === stopKey) break;
    }
    return out;
  }

  async processHeaders(headers: BlockHeader[]): Promise<Verdict & { ok: boolean }> {
    this.headersProcessed += headers.length;
    for (const h of headers) {
      const r = this.addHeader(h);
      if (!r.ok) return r;
    }
    return { ok: true };
  }

  private addHeader(h: BlockHeader): Verdict & { ok: boolean } {
    const hash = h.hash();
    const known = this.entries.get(k(hash));
    if (known) return known.invalid ? { ok: false, reason: 'duplicate-invalid', dos: 100 } : { ok: true };
    const parent = this.entries.get(k(h.prevHash));
    if (!parent) return { ok: false, reason: 'prev-blk-not-found', dos: 10 };
    if (parent.invalid) return { ok: false, reason: 'bad-prevblk', dos: 100 };
    if (h.bits !== EASY_BITS && h.bits !== HARDER_BITS)
      return { ok: false, reason: 'bad-diffbits', dos: 100 };
    if (!checkPow(hash, h.bits)) return { ok: false, reason: 'high-hash', dos: 100 };
    const e: Entry = {
      key: k(hash),
      header: h,
      hash,
      height: parent.height + 1,
      work: parent.work + work(h.bits),
      parent,
      invalid: false,
    };
    this.entries.set(k(hash), e);
    if (e.work > this.best.work) {
      this.best = e;
      this.pathCache = null;
    }
    return { ok: true };
  }

  /** Best-header-chain entries not on the active chain, lowest first. */
  private path(): Entry[] {
    if (!this.pathCache) {
      const p: Entry[] = [];
      for (let e: Entry | null = this.best; e && this.active[e.height] !== e; e = e.parent) p.push(e);
      this.pathCache = p.reverse();
    }
    return this.pathCache;
  }

  blocksToDownload(max: number): { hash: Uint8Array; height: number }[] {
    const out: { hash: Uint8Array; height: number }[] = [];
    for (const e of this.path()) {
      if (out.length >= max) break;
      if (!this.bodies.has(e.key)) out.push({ hash: e.hash, height: e.height });
    }
    return out;
  }

  async processBlock(block: Block): Promise<Verdict & { accepted: boolean }> {
    this.processedBlocks++;
    const hk = k(block.hash());
    if (this.bodies.has(hk)) return { accepted: true };
    const hr = this.addHeader(block.header);
    if (!hr.ok) return { accepted: false, reason: hr.reason, dos: hr.dos };
    const { root, mutated } = computeMerkleRoot(block.txs.map((t) => t.txid()));
    // As Core, a merkle mismatch does not mark the header invalid: the body may have been mutated.
    if (k(root) !== k(block.header.merkleRoot))
      return { accepted: false, reason: 'bad-txnmrklroot', dos: 100 };
    if (mutated) return { accepted: false, reason: 'bad-txns-duplicate', dos: 100 };
    if (block.txs.length === 0 || !block.txs[0].isCoinbase()) {
      (this.entries.get(hk) as Entry).invalid = true;
      return { accepted: false, reason: 'bad-cb-missing', dos: 100 };
    }
    this.bodies.set(hk, block);
    this.activate();
    return { accepted: true };
  }

  /** As the chain: the run, then blocks asked of `supply` one at a time (at most 32). */
  async processBlocks(
    blocks: Block[],
    supply?: () => Block | null,
  ): Promise<(Verdict & { accepted: boolean })[]> {
    const out: (Verdict & { accepted: boolean })[] = [];
    for (const b of blocks) out.push(await this.processBlock(b));
    for (let n = 0; n < 32; n++) {
      const b = supply?.();
      if (!b) break;
      out.push(await this.processBlock(b));
    }
    return out;
  }

  private activate(): void {
    const path = this.path();
    let i = 0;
    while (i < path.length && this.bodies.has(path[i].key)) i++;
    if (i === 0) return;
    const newTip = path[i - 1];
    if (newTip.work <= this.active[this.active.length - 1].work) return;
    this.active.length = path[0].height;
    for (let j = 0; j < i; j++) this.active.push(path[j]);
    this.pathCache = null;
    for (const cb of this.tipListeners) cb(newTip.hash, newTip.height);
  }

  /** Mines `n` blocks on the tip (optionally with transactions in the first). */
  async mine(n: number, txs: Tx[] = [], tag = 0): Promise<Block[]> {
    const out: Block[] = [];
    for (let i = 0; i < n; i++) {
      const b = makeBlock(this.tipHash(), this.tipHeight() + 1, i === 0 ? txs : [], tag);
      const r = await this.processBlock(b);
      if (!r.accepted) throw new Error(`mined block rejected: ${r.reason}`);
      out.push(b);
    }
    return out;
  }

  /** Loads a prebuilt chain without announcing each block. */
  async load(blocks: Block[]): Promise<void> {
    for (const b of blocks) {
      const r = await this.processBlock(b);
      if (!r.accepted) throw new Error(`load: ${r.reason}`);
    }
  }
}

/** A mempool that judges only what tests need: negative outputs are consensus-invalid; a locktime
 * of 0xdeadbeef is refused by policy. */
export class FakeMempool implements P2PMempool {
  readonly txs = new Map<string, Tx>();
  private readonly listeners = new Set<(tx: Tx) => void>();

  has(txid: Uint8Array): boolean {
    return this.txs.has(k(txid));
  }
  get(txid: Uint8Array): Tx | undefined {
    return this.txs.get(k(txid));
  }
  txids(): Uint8Array[] {
    return [...this.txs.values()].map((t) => t.txid());
  }
  onAccepted(cb: (tx: Tx) => void): () => void {
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  }
  /** Peers told gone, in order. */
  readonly gone: number[] = [];
  peerGone(peer: number): void {
    this.gone.push(peer);
  }
  async accept(tx: Tx): Promise<Verdict & { accepted: boolean; policy?: boolean }> {
    if (tx.inputs.length === 0) return { accepted: false, reason: 'bad-txns-vin-empty', dos: 100 };
    if (tx.outputs.some((o) => o.value < 0n))
      return { accepted: false, reason: 'bad-txns-vout-negative', dos: 100 };
    if (tx.locktime === 0xdeadbeef) return { accepted: false, reason: 'non-final', policy: true };
    if (this.has(tx.txid())) return { accepted: false, reason: 'txn-already-in-mempool', policy: true };
    this.txs.set(k(tx.txid()), tx);
    for (const cb of this.listeners) cb(tx);
    return { accepted: true };
  }
}

export function spend(seed: number, value = 1000n): Tx {
  const prev = new Uint8Array(32).fill(seed & 0xff);
  prev[0] = (seed >> 8) & 0xff;
  return new Tx(
    1,
    [new TxIn(new OutPoint(prev, seed), Uint8Array.of(0x51))],
    [new TxOut(value, Uint8Array.of(0x51))],
    0,
  );
}

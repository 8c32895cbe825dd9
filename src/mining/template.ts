// Block templates: what the next block on the tip should hold. Owns: choosing mempool
// transactions by package fee rate (Bitcoin Core's CreateNewBlock / addPackageTxs: a transaction is
// ranked with its not-yet-included ancestors, ancestors go in before descendants, and once a
// package is in, its descendants are re-ranked without it), the size and sigop budgets, the header
// fields (version, bits, mintime, curtime) and the coinbase (BIP34 height, extra-nonce, payout).
// Does not own: validating the transactions (the mempool did; the chain checks the finished
// block) or hashing (miner.ts). Fails with RangeError on a coinbase scriptSig that would not fit.
import { coinbaseHeightScript } from '../consensus/coinbase.js';
import type { ChainParams } from '../consensus/params.js';
import { compactToTarget } from '../consensus/pow.js';
import { blockSubsidy } from '../consensus/subsidy.js';
import { isFinalTx, lockTimeCutoff } from '../consensus/tx-verify.js';
import type { MempoolEntry } from '../mempool/mempool.js';
import { Block, BlockHeader, HEADER_SIZE } from '../primitives/block.js';
import { bytesToHex, concatBytes } from '../primitives/bytes.js';
import { computeMerkleRoot } from '../primitives/merkle.js';
import { NULL_HASH, OutPoint, Tx, TxIn, TxOut } from '../primitives/tx.js';
import { pushData } from '../script/standard.js';
import type { TemplateChain, TemplatePool } from './ports.js';

/** Tally requires version >= 4 (BIP34/66/65 active from genesis); no version bits are signalled. */
export const TEMPLATE_VERSION = 4;
/** Bytes kept free for the coinbase (Core reserves 4,000 weight units, i.e. 1,000 bytes). */
export const COINBASE_RESERVED_BYTES = 1000;
/** Sigops kept free for the coinbase (Core's 400 cost units / 4). */
export const COINBASE_RESERVED_SIGOPS = 100;
/** Core's MAX_CONSECUTIVE_FAILURES: stop trying packages once the block is nearly full. */
const MAX_CONSECUTIVE_FAILURES = 1000;
const NEARLY_FULL_BYTES = 4000;

export interface TemplateSource {
  chain: TemplateChain;
  /** modifiedFee ranks packages (fee plus prioritisetransaction's delta); the coinbase takes real fees. */
  mempool: TemplatePool;
  params: ChainParams;
}

export interface TemplateTx {
  tx: Tx;
  /** Display hex. */
  txid: string;
  fee: bigint;
  sigops: number;
  /** 1-based indexes into BlockTemplate.txs of the in-template parents, as BIP22's `depends`. */
  depends: number[];
}

export interface BlockTemplate {
  height: number;
  /** Internal byte order. */
  prevHash: Uint8Array;
  version: number;
  bits: number;
  target: bigint;
  curtime: number;
  /** Median time past of the tip + 1: the earliest valid block time. */
  mintime: number;
  /** Subsidy + fees of txs. */
  coinbaseValue: bigint;
  /** Without the coinbase, parents before children. */
  txs: TemplateTx[];
  /** Sigops of txs (legacy + P2SH), the coinbase not counted. */
  sigops: number;
  /** Serialised bytes of txs, the header and coinbase not counted. */
  size: number;
}

export interface TemplateOptions {
  /** Unix seconds (default the wall clock). */
  now?: number;
  /** Block size budget (default params.maxBlockSize); the coinbase reserve comes off it. */
  maxBlockSize?: number;
  /** Sigop budget (default params.maxBlockSigops); the coinbase reserve comes off it. */
  maxSigops?: number;
}

/** Per-candidate package state: the entry plus every ancestor not yet in the block. */
interface Candidate {
  entry: MempoolEntry;
  ancestors: Set<string>;
  pkgFee: bigint;
  pkgSize: number;
  pkgSigops: number;
  /** Bumped on each re-rank, so stale heap items are recognised. */
  version: number;
}

interface HeapItem {
  fee: bigint;
  size: number;
  txid: string;
  version: number;
}

/** a ranks above b: higher fee rate, then smaller package, then txid for determinism. */
function better(a: HeapItem, b: HeapItem): boolean {
  const l = a.fee * BigInt(b.size);
  const r = b.fee * BigInt(a.size);
  if (l !== r) return l > r;
  if (a.size !== b.size) return a.size < b.size;
  return a.txid < b.txid;
}

/** A binary max-heap by package fee rate, with lazy deletion of re-ranked items. */
class PackageHeap {
  private readonly items: HeapItem[] = [];

  get length(): number {
    return this.items.length;
  }

  push(item: HeapItem): void {
    const a = this.items;
    a.push(item);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!better(a[i], a[p])) break;
      [a[i], a[p]] = [a[p], a[i]];
      i = p;
    }
  }

  pop(): HeapItem | undefined {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && better(a[l], a[m])) m = l;
        if (r < a.length && better(a[r], a[m])) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m], a[i]];
        i = m;
      }
    }
    return top;
  }
}

/** A template for the block after the chain's tip. */
export function createTemplate(src: TemplateSource, opts: TemplateOptions = {}): BlockTemplate {
  const { chain, mempool, params } = src;
  const tip = chain.tip;
  const height = tip.height + 1;
  const mtp = chain.medianTimePast();
  const mintime = mtp + 1;
  const now = opts.now ?? Math.floor(Date.now() / 1000);
  const curtime = Math.max(now, mintime);
  const bits = chain.nextWorkRequired();
  const cutoff = lockTimeCutoff(height, curtime, mtp, params);

  const maxSize = Math.min(opts.maxBlockSize ?? params.maxBlockSize, params.maxBlockSize);
  const maxSigops = Math.min(opts.maxSigops ?? params.maxBlockSigops, params.maxBlockSigops);
  // Header, a 5-byte transaction count and the coinbase are accounted for before any package.
  const sizeBudget = maxSize - HEADER_SIZE - 5 - COINBASE_RESERVED_BYTES;
  const sigopBudget = maxSigops - COINBASE_RESERVED_SIGOPS;

  const entries = new Map<string, MempoolEntry>();
  for (const e of mempool.all()) entries.set(e.txid, e);
  // A transaction that cannot be final in this block poisons every package it belongs to.
  const excluded = new Set<string>();
  for (const e of entries.values()) if (!isFinalTx(e.tx, height, cutoff)) excluded.add(e.txid);

  const cands = new Map<string, Candidate>();
  const descendants = new Map<string, string[]>();
  const heap = new PackageHeap();
  for (const e of entries.values()) {
    const anc = mempool.ancestors(e);
    const c: Candidate = {
      entry: e,
      ancestors: new Set(anc.keys()),
      pkgFee: mempool.modifiedFee(e),
      pkgSize: e.size,
      pkgSigops: e.sigops,
      version: 0,
    };
    for (const a of anc.values()) {
      c.pkgFee += mempool.modifiedFee(a);
      c.pkgSize += a.size;
      c.pkgSigops += a.sigops;
      const d = descendants.get(a.txid);
      if (d) d.push(e.txid);
      else descendants.set(a.txid, [e.txid]);
    }
    cands.set(e.txid, c);
    heap.push({ fee: c.pkgFee, size: c.pkgSize, txid: e.txid, version: 0 });
  }

  const included = new Set<string>();
  const failed = new Set<string>();
  const chosen: MempoolEntry[] = [];
  let size = 0;
  let sigops = 0;
  let fees = 0n;
  let consecutiveFailures = 0;

  while (heap.length > 0) {
    const item = heap.pop() as HeapItem;
    const c = cands.get(item.txid) as Candidate;
    if (item.version !== c.version || included.has(item.txid) || failed.has(item.txid)) continue;
    const pkg = [item.txid, ...c.ancestors];
    if (pkg.some((id) => excluded.has(id) || failed.has(id))) {
      failed.add(item.txid);
      continue;
    }
    if (size + c.pkgSize > sizeBudget || sigops + c.pkgSigops > sigopBudget) {
      failed.add(item.txid);
      if (++consecutiveFailures > MAX_CONSECUTIVE_FAILURES && size > sizeBudget - NEARLY_FULL_BYTES) break;
      continue;
    }
    consecutiveFailures = 0;
    // Ancestors first: a transaction has more in-pool ancestors than any of its parents.
    const members = pkg
      .map((id) => cands.get(id) as Candidate)
      .sort((a, b) => a.ancestors.size - b.ancestors.size || (a.entry.txid < b.entry.txid ? -1 : 1));
    for (const m of members) {
      included.add(m.entry.txid);
      chosen.push(m.entry);
      size += m.entry.size;
      sigops += m.entry.sigops;
      fees += m.entry.fee;
    }
    // Re-rank what depends on the new members: their packages no longer carry them.
    const touched = new Set<string>();
    for (const m of members) {
      for (const d of descendants.get(m.entry.txid) ?? []) {
        if (included.has(d)) continue;
        const dc = cands.get(d) as Candidate;
        dc.ancestors.delete(m.entry.txid);
        dc.pkgFee -= mempool.modifiedFee(m.entry);
        dc.pkgSize -= m.entry.size;
        dc.pkgSigops -= m.entry.sigops;
        touched.add(d);
      }
    }
    for (const d of touched) {
      const dc = cands.get(d) as Candidate;
      dc.version++;
      heap.push({ fee: dc.pkgFee, size: dc.pkgSize, txid: d, version: dc.version });
    }
  }

  const index = new Map<string, number>();
  const txs: TemplateTx[] = chosen.map((e, i) => {
    index.set(e.txid, i + 1);
    const depends = new Set<number>();
    for (const input of e.tx.inputs) {
      const p = index.get(bytesToHex(input.prevout.hash));
      if (p !== undefined) depends.add(p);
    }
    return {
      tx: e.tx,
      txid: e.tx.txidHex(),
      fee: e.fee,
      sigops: e.sigops,
      depends: [...depends].sort((a, b) => a - b),
    };
  });

  return {
    height,
    prevHash: tip.hash,
    version: TEMPLATE_VERSION,
    bits,
    target: compactToTarget(bits).target,
    curtime,
    mintime,
    coinbaseValue: blockSubsidy(height, params) + fees,
    txs,
    sigops,
    size,
  };
}

/** A non-negative number as CScriptNum bytes: minimal little-endian, sign bit kept clear. */
function scriptNumBytes(n: bigint): Uint8Array {
  const out: number[] = [];
  for (let v = n; v > 0n; v >>= 8n) out.push(Number(v & 0xffn));
  if (out.length > 0 && (out[out.length - 1] & 0x80) !== 0) out.push(0);
  return Uint8Array.from(out);
}

/** Core's MAX_COINBASE_SCRIPTSIG_SIZE (bad-cb-length above it). */
const MAX_COINBASE_SCRIPTSIG = 100;

/**
 * The coinbase of a template: scriptSig = BIP34 height, the extra-nonce as a script number (as
 * Core's IncrementExtraNonce writes `<< nHeight << CScriptNum(nExtraNonce)`), then `extra` pushed
 * if given; one output paying coinbaseValue to payoutScript.
 */
export function coinbaseTx(
  t: BlockTemplate,
  payoutScript: Uint8Array,
  extraNonce: bigint | number,
  extra?: Uint8Array,
): Tx {
  const en = BigInt(extraNonce);
  if (en < 0n || en >= 1n << 64n) throw new RangeError('extraNonce must be within 0..2^64-1');
  const parts = [coinbaseHeightScript(t.height), pushData(scriptNumBytes(en))];
  if (extra && extra.length > 0) parts.push(pushData(extra));
  const scriptSig = concatBytes(...parts);
  if (scriptSig.length > MAX_COINBASE_SCRIPTSIG)
    throw new RangeError(`coinbase scriptSig of ${scriptSig.length} bytes exceeds ${MAX_COINBASE_SCRIPTSIG}`);
  return new Tx(
    1,
    [new TxIn(new OutPoint(NULL_HASH, 0xffffffff), scriptSig, 0xffffffff)],
    [new TxOut(t.coinbaseValue, payoutScript)],
    0,
  );
}

/** Merkle root of a block whose first transaction is `coinbase`, followed by the template's. */
export function templateMerkleRoot(t: BlockTemplate, coinbase: Tx): Uint8Array {
  return computeMerkleRoot([coinbase.txid(), ...t.txs.map((x) => x.tx.txid())]).root;
}

/** The full block for a template, coinbase first; the nonce defaults to 0 (unsolved). */
export function assembleBlock(
  t: BlockTemplate,
  payoutScript: Uint8Array,
  extraNonce: bigint | number,
  time: number,
  nonce = 0,
): Block {
  const cb = coinbaseTx(t, payoutScript, extraNonce);
  const header = new BlockHeader(t.version, t.prevHash, templateMerkleRoot(t, cb), time, t.bits, nonce);
  return new Block(header, [cb, ...t.txs.map((x) => x.tx)]);
}

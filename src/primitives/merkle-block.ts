// Bitcoin's partial merkle tree and merkle block (Core's CPartialMerkleTree and CMerkleBlock, the
// bytes of `gettxoutproof` and of BIP37's merkleblock message): a block header, the block's
// transaction count, the hashes a verifier cannot compute and one flag bit per visited node,
// walked depth first. A bit says whether the node is the parent of a matched txid; a node whose
// bit is 0 (or a leaf) is given by its hash, a node whose bit is 1 is computed from its children.
// Serialized as the header, a u32 count, a CompactSize vector of 32-byte hashes, then a
// CompactSize vector of bytes holding the bits least significant first.
// Owns: building a tree for chosen leaves, its encoding, and extracting the matches and root as
// Core's ExtractMatches does (a malformed tree gives null, never a wrong root). Fails with
// DecodeError on bytes that are not a merkle block.
import { sha256d } from '../crypto/hash.js';
import { BlockHeader } from './block.js';
import { BufferReader, BufferWriter, concatBytes, DecodeError, equalBytes } from './bytes.js';

/**
 * Most transactions a block can hold (Core: MAX_BLOCK_WEIGHT / MIN_TRANSACTION_WEIGHT = 16,666;
 * the same with Tally's 1,000,000-byte blocks and 60-byte smallest transaction).
 */
export const MAX_MERKLE_TXS = 16_666;

export interface MerkleMatch {
  /** Internal byte order. */
  txid: Uint8Array;
  /** Position in the block. */
  index: number;
}

export class PartialMerkleTree {
  constructor(
    readonly numTransactions: number,
    /** Internal byte order, in the order the depth-first walk uses them. */
    readonly hashes: readonly Uint8Array[],
    /** Flag bits as serialized (a multiple of 8 after decoding: padding included). */
    readonly bits: readonly boolean[],
  ) {}

  /** The tree proving `txids[i]` for every i with `match[i]` (txids in block order). */
  static build(txids: readonly Uint8Array[], match: readonly boolean[]): PartialMerkleTree {
    if (txids.length === 0 || txids.length !== match.length) throw new Error('need one flag per txid');
    const n = txids.length;
    const hashes: Uint8Array[] = [];
    const bits: boolean[] = [];
    const width = (h: number) => treeWidth(n, h);
    const hashAt = (h: number, pos: number): Uint8Array => {
      if (h === 0) return txids[pos];
      const left = hashAt(h - 1, pos * 2);
      const right = pos * 2 + 1 < width(h - 1) ? hashAt(h - 1, pos * 2 + 1) : left;
      return sha256d(concatBytes(left, right));
    };
    const walk = (h: number, pos: number): void => {
      let parent = false;
      for (let p = pos << h; p < (pos + 1) << h && p < n; p++) parent ||= match[p];
      bits.push(parent);
      if (h === 0 || !parent) {
        hashes.push(hashAt(h, pos));
        return;
      }
      walk(h - 1, pos * 2);
      if (pos * 2 + 1 < width(h - 1)) walk(h - 1, pos * 2 + 1);
    };
    walk(treeHeight(n), 0);
    return new PartialMerkleTree(n, hashes, bits);
  }

  /**
   * The merkle root the tree commits to and the leaves it marks, or null when the tree is
   * malformed: no or too many transactions, more hashes than transactions, bits or hashes left
   * over or missing, or two equal siblings (the CVE-2012-2459 mutation), as Core's ExtractMatches.
   */
  extractMatches(): { root: Uint8Array; matches: MerkleMatch[] } | null {
    const n = this.numTransactions;
    if (n === 0 || n > MAX_MERKLE_TXS) return null;
    if (this.hashes.length > n || this.bits.length < this.hashes.length) return null;
    let bitsUsed = 0;
    let hashesUsed = 0;
    let bad = false;
    const matches: MerkleMatch[] = [];
    const walk = (h: number, pos: number): Uint8Array => {
      if (bitsUsed >= this.bits.length) {
        bad = true;
        return new Uint8Array(32);
      }
      const parent = this.bits[bitsUsed++];
      if (h === 0 || !parent) {
        if (hashesUsed >= this.hashes.length) {
          bad = true;
          return new Uint8Array(32);
        }
        const hash = this.hashes[hashesUsed++];
        if (h === 0 && parent) matches.push({ txid: hash, index: pos });
        return hash;
      }
      const left = walk(h - 1, pos * 2);
      let right = left;
      if (pos * 2 + 1 < treeWidth(n, h - 1)) {
        right = walk(h - 1, pos * 2 + 1);
        if (equalBytes(left, right)) bad = true;
      }
      return sha256d(concatBytes(left, right));
    };
    const root = walk(treeHeight(n), 0);
    if (bad) return null;
    // Every bit used except the padding of the last byte, and every hash used.
    if (Math.ceil(bitsUsed / 8) !== Math.ceil(this.bits.length / 8)) return null;
    if (hashesUsed !== this.hashes.length) return null;
    return { root, matches };
  }

  write(w: BufferWriter): void {
    w.u32(this.numTransactions).varint(this.hashes.length);
    for (const h of this.hashes) w.bytes(h);
    const bytes = new Uint8Array(Math.ceil(this.bits.length / 8));
    this.bits.forEach((b, i) => {
      if (b) bytes[i >> 3] |= 1 << (i & 7);
    });
    w.varBytes(bytes);
  }

  static read(r: BufferReader): PartialMerkleTree {
    const n = r.u32('merkle.numTransactions');
    const count = r.varint('merkle.hashes');
    if (count * 32 > r.remaining) throw new DecodeError('unexpected end of data', 'merkle.hashes');
    const hashes: Uint8Array[] = [];
    for (let i = 0; i < count; i++) hashes.push(r.copy(32, 'merkle.hashes'));
    const flags = r.varBytes('merkle.flags');
    const bits: boolean[] = [];
    for (let i = 0; i < flags.length * 8; i++) bits.push((flags[i >> 3] & (1 << (i & 7))) !== 0);
    return new PartialMerkleTree(n, hashes, bits);
  }
}

/** Core's CMerkleBlock as `gettxoutproof` writes it: the header and the partial tree. */
export class MerkleBlock {
  constructor(
    readonly header: BlockHeader,
    readonly tree: PartialMerkleTree,
  ) {}

  /** The proof for the transactions of a block (txids in block order) that `wanted` accepts. */
  static fromBlock(
    header: BlockHeader,
    txids: readonly Uint8Array[],
    wanted: (txid: Uint8Array) => boolean,
  ): MerkleBlock {
    return new MerkleBlock(header, PartialMerkleTree.build(txids, txids.map(wanted)));
  }

  encode(): Uint8Array {
    const w = new BufferWriter(128 + 32 * this.tree.hashes.length);
    this.header.write(w);
    this.tree.write(w);
    return w.finish();
  }

  static decode(data: Uint8Array): MerkleBlock {
    const r = new BufferReader(data);
    const mb = new MerkleBlock(BlockHeader.read(r), PartialMerkleTree.read(r));
    r.end('merkleblock');
    return mb;
  }

  /** The txids proven in this block, or null when the tree is malformed or commits to another root. */
  verify(): MerkleMatch[] | null {
    const got = this.tree.extractMatches();
    if (got === null || !equalBytes(got.root, this.header.merkleRoot)) return null;
    return got.matches;
  }
}

/** Nodes at height h of a tree over n leaves (Core's CalcTreeWidth). */
function treeWidth(n: number, h: number): number {
  return Math.floor((n + (1 << h) - 1) / (1 << h));
}

function treeHeight(n: number): number {
  let h = 0;
  while (treeWidth(n, h) > 1) h++;
  return h;
}

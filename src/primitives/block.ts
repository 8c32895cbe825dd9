// Block headers (80 bytes) and blocks in Bitcoin's serialisation.
// Owns: encode/decode, block hash, the merkle root of a block's transactions.
// Does not own: proof-of-work or any other validity rule (consensus/). Fails with DecodeError.
import { sha256d } from '../crypto/hash.js';
import { BufferReader, BufferWriter, reverseHex } from './bytes.js';
import { computeMerkleRoot } from './merkle.js';
import { Tx } from './tx.js';

export const HEADER_SIZE = 80;

const HASH_SCRATCH = (() => {
  const buf = new Uint8Array(HEADER_SIZE);
  return { buf, view: new DataView(buf.buffer) };
})();

export class BlockHeader {
  private _hash?: Uint8Array;
  constructor(
    readonly version: number,
    /** Internal byte order. */
    readonly prevHash: Uint8Array,
    /** Internal byte order. */
    readonly merkleRoot: Uint8Array,
    readonly time: number,
    readonly bits: number,
    readonly nonce: number,
  ) {}

  write(w: BufferWriter): void {
    w.i32(this.version)
      .bytes(this.prevHash)
      .bytes(this.merkleRoot)
      .u32(this.time)
      .u32(this.bits)
      .u32(this.nonce);
  }

  encode(): Uint8Array {
    const w = new BufferWriter(HEADER_SIZE);
    this.write(w);
    return w.finish();
  }

  /** Internal byte order. */
  hash(): Uint8Array {
    if (!this._hash) {
      // Serialised into one reused buffer (hashing copies it): a header's hash allocates only
      // the digest, which counts when a peer sends 2,000 at a time.
      const w = HASH_SCRATCH;
      w.view.setInt32(0, this.version | 0, true);
      w.buf.set(this.prevHash, 4);
      w.buf.set(this.merkleRoot, 36);
      w.view.setUint32(68, this.time >>> 0, true);
      w.view.setUint32(72, this.bits >>> 0, true);
      w.view.setUint32(76, this.nonce >>> 0, true);
      this._hash = sha256d(w.buf);
    }
    return this._hash;
  }

  hashHex(): string {
    return reverseHex(this.hash());
  }

  static read(r: BufferReader): BlockHeader {
    return new BlockHeader(
      r.i32('header.version'),
      r.copy(32, 'header.prevHash'),
      r.copy(32, 'header.merkleRoot'),
      r.u32('header.time'),
      r.u32('header.bits'),
      r.u32('header.nonce'),
    );
  }

  static decode(data: Uint8Array): BlockHeader {
    const r = new BufferReader(data);
    const h = BlockHeader.read(r);
    r.end('header');
    return h;
  }
}

export class Block {
  private _raw?: Uint8Array;
  constructor(
    readonly header: BlockHeader,
    readonly txs: readonly Tx[],
  ) {}

  hash(): Uint8Array {
    return this.header.hash();
  }

  hashHex(): string {
    return this.header.hashHex();
  }

  write(w: BufferWriter): void {
    this.header.write(w);
    w.varint(this.txs.length);
    for (const tx of this.txs) w.bytes(tx.encode());
  }

  encode(): Uint8Array {
    if (!this._raw) {
      const w = new BufferWriter(HEADER_SIZE + 9 + this.txs.reduce((n, t) => n + t.size, 0));
      this.write(w);
      this._raw = w.finish();
    }
    return this._raw;
  }

  get size(): number {
    return this.encode().length;
  }

  /** Merkle root of the transactions and whether the tree is mutated (CVE-2012-2459). */
  merkle(): { root: Uint8Array; mutated: boolean } {
    return computeMerkleRoot(this.txs.map((t) => t.txid()));
  }

  static read(r: BufferReader): Block {
    const start = r.pos;
    const header = BlockHeader.read(r);
    // The smallest transaction is 10 bytes (version, two empty counts, locktime).
    const n = r.varint('block.txs.length', Math.floor(r.remaining / 10));
    const txs = new Array<Tx>(n);
    for (let i = 0; i < n; i++) txs[i] = Tx.read(r);
    const b = new Block(header, txs);
    b._raw = r.data.slice(start, r.pos);
    return b;
  }

  static decode(data: Uint8Array): Block {
    const r = new BufferReader(data);
    const b = Block.read(r);
    r.end('block');
    return b;
  }
}

// Transactions in Bitcoin's legacy (pre-SegWit) serialisation.
// Owns: OutPoint, TxIn, TxOut, Tx, their encode/decode and ids. Does not own: any validity rule
// beyond what the encoding itself requires (that is consensus/). Fails with DecodeError.
import { sha256d } from '../crypto/hash.js';
import { BufferReader, BufferWriter, DecodeError, bytesToHex, reverseHex } from './bytes.js';

export const NULL_HASH = new Uint8Array(32);

export class OutPoint {
  private _key: string | undefined = undefined;
  constructor(
    /** Previous txid, internal byte order. */
    readonly hash: Uint8Array,
    readonly index: number,
  ) {}
  isNull(): boolean {
    return this.index === 0xffffffff && this.hash.every((b) => b === 0);
  }
  /** Stable map key: internal-order hash hex + ':' + index (made once: a block's connect asks for
   * each input's several times). */
  key(): string {
    return (this._key ??= OutPoint.keyOf(bytesToHex(this.hash), this.index));
  }
  /** An outpoint whose key is known (Tx.outpoint: one hex of the txid for all its outputs). */
  static keyed(hash: Uint8Array, index: number, hashHex: string): OutPoint {
    const op = new OutPoint(hash, index);
    op._key = OutPoint.keyOf(hashHex, index);
    return op;
  }
  private static keyOf(hashHex: string, index: number): string {
    return hashHex + ':' + index;
  }
  txidHex(): string {
    return reverseHex(this.hash);
  }
  write(w: BufferWriter): void {
    w.bytes(this.hash).u32(this.index);
  }
  static read(r: BufferReader): OutPoint {
    return new OutPoint(r.copy(32, 'prevout.hash'), r.u32('prevout.index'));
  }
}

export class TxIn {
  constructor(
    readonly prevout: OutPoint,
    readonly scriptSig: Uint8Array,
    readonly sequence: number = 0xffffffff,
  ) {}
  write(w: BufferWriter): void {
    this.prevout.write(w);
    w.varBytes(this.scriptSig).u32(this.sequence);
  }
  /** `copy` false: the script is a view into the reader's data (Tx.read's own copy of the tx). */
  static read(r: BufferReader, copy = true): TxIn {
    const prevout = OutPoint.read(r);
    const script = copy
      ? r.varCopy('txin.scriptSig', r.remaining)
      : r.varBytes('txin.scriptSig', r.remaining);
    return new TxIn(prevout, script, r.u32('txin.sequence'));
  }
  /** Reads past an input with the checks and errors of read(), making nothing. */
  static skip(r: BufferReader): void {
    r.skip(32, 'prevout.hash');
    r.skip(4, 'prevout.index');
    r.skipVarBytes('txin.scriptSig', r.remaining);
    r.skip(4, 'txin.sequence');
  }
}

export class TxOut {
  constructor(
    /** Amount in base units; may be negative when decoded (consensus rejects it). */
    readonly value: bigint,
    readonly scriptPubKey: Uint8Array,
  ) {}
  write(w: BufferWriter): void {
    w.i64(this.value).varBytes(this.scriptPubKey);
  }
  static read(r: BufferReader): TxOut {
    const value = r.i64('txout.value');
    return new TxOut(value, r.varCopy('txout.scriptPubKey', r.remaining));
  }
  /** Reads past an output with the checks and errors of read(), making nothing. */
  static skip(r: BufferReader): void {
    r.skip(8, 'txout.value');
    r.skipVarBytes('txout.scriptPubKey', r.remaining);
  }
}

export class Tx {
  private _txid?: Uint8Array;
  private _txidKey?: string;
  private _outpoints?: OutPoint[];
  private _raw?: Uint8Array;
  constructor(
    /** Serialised as 32 bits; kept unsigned as Bitcoin Core now does (BIP68 compares it unsigned). */
    readonly version: number,
    readonly inputs: readonly TxIn[],
    readonly outputs: readonly TxOut[],
    readonly locktime: number,
  ) {}

  write(w: BufferWriter): void {
    w.u32(this.version).varint(this.inputs.length);
    for (const i of this.inputs) i.write(w);
    w.varint(this.outputs.length);
    for (const o of this.outputs) o.write(w);
    w.u32(this.locktime);
  }

  encode(): Uint8Array {
    if (!this._raw) {
      const w = new BufferWriter(64 + this.inputs.length * 150 + this.outputs.length * 40);
      this.write(w);
      this._raw = w.finish();
    }
    return this._raw;
  }

  get size(): number {
    return this.encode().length;
  }

  /** Internal byte order. */
  txid(): Uint8Array {
    if (!this._txid) this._txid = sha256d(this.encode());
    return this._txid;
  }

  /** Display order, as Bitcoin prints it. */
  txidHex(): string {
    return reverseHex(this.txid());
  }

  /** Internal byte order, as hex: the map key of the txid (OutPoint.key, the script cache). */
  txidKey(): string {
    return (this._txidKey ??= bytesToHex(this.txid()));
  }

  /**
   * The outpoint of output `i`, made once per transaction: connecting a block names each output
   * several times (BIP30's read and check, adding it to the coins), each once hexed before.
   */
  outpoint(i: number): OutPoint {
    const ops = (this._outpoints ??= []);
    return (ops[i] ??= OutPoint.keyed(this.txid(), i, this.txidKey()));
  }

  isCoinbase(): boolean {
    return this.inputs.length === 1 && this.inputs[0].prevout.isNull();
  }

  /**
   * The transaction's bytes are copied once (its raw form, hashed for its ids) and its input
   * scripts are views into that copy, so decoding allocates one buffer per transaction rather than
   * one per input script besides (each over V8's 64-byte on-heap limit, so each a separate backing
   * store: most of a block's decode time). A first pass finds the end with the same checks.
   */
  static read(r: BufferReader): Tx {
    const start = r.pos;
    Tx.skip(r);
    return Tx.parse(new BufferReader(r.data.slice(start, r.pos)));
  }

  /** Reads past a transaction with the checks and errors of read(), making nothing. */
  private static skip(r: BufferReader): void {
    r.skip(4, 'tx.version');
    // Each input takes at least 41 bytes and each output 9: bound counts by what is left so a
    // forged count cannot make us allocate.
    const nIn = r.varint('tx.vin.length', Math.floor(r.remaining / 41));
    for (let i = 0; i < nIn; i++) TxIn.skip(r);
    const nOut = r.varint('tx.vout.length', Math.floor(r.remaining / 9));
    for (let i = 0; i < nOut; i++) TxOut.skip(r);
    r.skip(4, 'tx.locktime');
  }

  /** Decodes exactly one transaction's bytes (skip() has checked them), keeping views into them. */
  private static parse(r: BufferReader): Tx {
    const version = r.u32('tx.version');
    const nIn = r.varint('tx.vin.length', Math.floor(r.remaining / 41));
    const inputs = new Array<TxIn>(nIn);
    for (let i = 0; i < nIn; i++) inputs[i] = TxIn.read(r, false);
    const nOut = r.varint('tx.vout.length', Math.floor(r.remaining / 9));
    const outputs = new Array<TxOut>(nOut);
    for (let i = 0; i < nOut; i++) outputs[i] = TxOut.read(r);
    const tx = new Tx(version, inputs, outputs, r.u32('tx.locktime'));
    tx._raw = r.data;
    return tx;
  }

  static decode(data: Uint8Array): Tx {
    const r = new BufferReader(data);
    const tx = Tx.read(r);
    r.end('tx');
    return tx;
  }
}

export { DecodeError };

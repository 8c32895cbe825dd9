// Bitcoin's legacy (pre-SegWit) signature hash, Core's SignatureHash for SigVersion BASE.
// Owns: the preimage's layout. Every input of a transaction shares most of its preimage (the
// version, each input's outpoint and sequence with an empty script, the outputs, the locktime):
// for a transaction of 8 inputs or more those parts are serialised once (kept beside it in a
// WeakMap, so a verify worker builds them once for each transaction it decodes) and each input's
// preimage is copied together from them with its own scriptCode, with no re-encoding.
// `signatureHashPlain` is the straightforward serialisation, the reference the tests compare with.
import { sha256d } from '../crypto/hash.js';
import { BufferWriter, compactSizeLength } from '../primitives/bytes.js';
import type { Tx } from '../primitives/tx.js';
import { OP } from './opcodes.js';
import { newOp, readOp } from './script.js';

export const SIGHASH_ALL = 1;
export const SIGHASH_NONE = 2;
export const SIGHASH_SINGLE = 3;
export const SIGHASH_ANYONECANPAY = 0x80;

/** uint256(1) in internal byte order: what Core signs for the out-of-range SIGHASH_SINGLE bug. */
const ONE = (() => {
  const b = new Uint8Array(32);
  b[0] = 1;
  return b;
})();

/** An input with an empty script: outpoint (36), script length 0 (1), sequence (4). */
const INPUT_BYTES = 41;
/** SIGHASH_SINGLE's blanked output: value -1 and an empty script. */
const BLANK_OUTPUT = Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0);

/** Where a script's real OP_CODESEPARATORs are (only those read before a parse failure). */
function codeSeparators(script: Uint8Array): number[] {
  const cuts: number[] = [];
  // No 0xab byte at all (the usual case): no separator, and no parse needed.
  if (script.indexOf(OP.OP_CODESEPARATOR) < 0) return cuts;
  const op = newOp();
  let pos = 0;
  while (readOp(script, pos, op)) {
    if (op.opcode === OP.OP_CODESEPARATOR) cuts.push(pos);
    pos = op.next;
  }
  return cuts;
}

/** The scriptCode as signed: OP_CODESEPARATORs removed (only real ones, up to a parse failure). */
function writeScriptCode(w: BufferWriter, script: Uint8Array): void {
  const cuts = codeSeparators(script);
  if (cuts.length === 0) {
    w.varBytes(script);
    return;
  }
  w.varint(script.length - cuts.length);
  let from = 0;
  for (const c of cuts) {
    w.bytes(script.subarray(from, c));
    from = c + 1;
  }
  w.bytes(script.subarray(from));
}

const writer = new BufferWriter(4096);

/**
 * The legacy signature hash serialised field by field, as Core's CTransactionSignatureSerializer:
 * the reference `signatureHash` is checked against. Same arguments and answer.
 */
export function signatureHashPlain(
  scriptCode: Uint8Array,
  tx: Tx,
  inputIndex: number,
  hashType: number,
): Uint8Array {
  if (inputIndex >= tx.inputs.length) return ONE.slice();
  const base = hashType & 0x1f;
  const single = base === SIGHASH_SINGLE;
  const none = base === SIGHASH_NONE;
  const anyoneCanPay = (hashType & SIGHASH_ANYONECANPAY) !== 0;
  if (single && inputIndex >= tx.outputs.length) return ONE.slice();

  const w = writer;
  w.pos = 0;
  w.u32(tx.version);
  const nIn = anyoneCanPay ? 1 : tx.inputs.length;
  w.varint(nIn);
  for (let i = 0; i < nIn; i++) {
    const k = anyoneCanPay ? inputIndex : i;
    const input = tx.inputs[k];
    w.bytes(input.prevout.hash).u32(input.prevout.index);
    if (k === inputIndex) writeScriptCode(w, scriptCode);
    else w.u8(0);
    w.u32(k !== inputIndex && (single || none) ? 0 : input.sequence);
  }
  const nOut = none ? 0 : single ? inputIndex + 1 : tx.outputs.length;
  w.varint(nOut);
  for (let i = 0; i < nOut; i++) {
    if (single && i !== inputIndex) {
      w.i64(-1n).u8(0);
      continue;
    }
    const out = tx.outputs[i];
    w.i64(out.value).varBytes(out.scriptPubKey);
  }
  w.u32(tx.locktime);
  w.i32(hashType);
  return sha256d(w.written());
}

/**
 * What every input's preimage of one transaction shares, in one buffer: the version,
 * CompactSize(inputs), each input with an empty script (INPUT_BYTES each), then the outputs and
 * the locktime exactly as the transaction's own bytes hold them (copied, not re-encoded).
 */
class SighashParts {
  readonly bytes: Uint8Array;
  /** Where input 0 starts (after the version and the input count). */
  readonly header: number;
  /** Where the outputs' CompactSize count starts; the locktime is the last 4 bytes. */
  readonly outputsAt: number;
  /** The inputs with every sequence 0 (NONE and SINGLE), made when first asked for. */
  private zeroSeq: Uint8Array | undefined = undefined;
  /** ends[i]: where output i ends in `bytes`, made when SINGLE first asks. */
  private ends: number[] | undefined = undefined;

  constructor(readonly tx: Tx) {
    const n = tx.inputs.length;
    const raw = tx.encode();
    let tail = compactSizeLength(tx.outputs.length) + 4;
    for (const o of tx.outputs) tail += 8 + compactSizeLength(o.scriptPubKey.length) + o.scriptPubKey.length;
    this.header = 4 + compactSizeLength(n);
    this.outputsAt = this.header + n * INPUT_BYTES;
    const b = new Uint8Array(this.outputsAt + tail);
    const v = new DataView(b.buffer);
    v.setUint32(0, tx.version, true);
    writeCompactSize(v, 4, n);
    let pos = this.header;
    for (const input of tx.inputs) {
      b.set(input.prevout.hash, pos);
      v.setUint32(pos + 32, input.prevout.index, true);
      // b[pos + 36] = 0: the empty script's length.
      v.setUint32(pos + 37, input.sequence, true);
      pos += INPUT_BYTES;
    }
    b.set(raw.subarray(raw.length - tail), pos);
    this.bytes = b;
  }

  /** The inputs (from the start) with every sequence 0. */
  inputsZeroSeq(): Uint8Array {
    if (!this.zeroSeq) {
      const z = this.bytes.slice(0, this.outputsAt);
      for (let at = this.header + INPUT_BYTES - 4; at < z.length; at += INPUT_BYTES) z.fill(0, at, at + 4);
      this.zeroSeq = z;
    }
    return this.zeroSeq;
  }

  /** Output i's serialisation. */
  output(i: number): Uint8Array {
    if (!this.ends) {
      let at = this.outputsAt + compactSizeLength(this.tx.outputs.length);
      this.ends = [at];
      for (const o of this.tx.outputs) {
        at += 8 + compactSizeLength(o.scriptPubKey.length) + o.scriptPubKey.length;
        this.ends.push(at);
      }
    }
    return this.bytes.subarray(this.ends[i], this.ends[i + 1]);
  }
}

const partsOf = new WeakMap<Tx, SighashParts>();

/**
 * Fewer inputs than this are serialised plainly: little is shared, and the parts (and their
 * WeakMap entries) cost more than they save. bench connect's 2-input transactions with parts
 * took about 5 % more CPU and 10 MB more peak heap; a 100-input one hashes each input in 4.8 us
 * with them against 10.9 us without (CPU time, 2-core dev machine at load 11).
 */
const PARTS_MIN_INPUTS = 8;

function parts(tx: Tx): SighashParts {
  let p = partsOf.get(tx);
  if (!p) {
    p = new SighashParts(tx);
    partsOf.set(tx, p);
  }
  return p;
}

/** A preimage is copied together here; it grows to the largest one seen and stays there. */
let scratch = new Uint8Array(4096);
let scratchView = new DataView(scratch.buffer);

/**
 * Legacy signature hash, internal byte order. `hashType` is the full 32-bit value appended to the
 * preimage; its low 5 bits pick NONE/SINGLE (anything else hashes as ALL) and 0x80 ANYONECANPAY.
 */
export function signatureHash(
  scriptCode: Uint8Array,
  tx: Tx,
  inputIndex: number,
  hashType: number,
): Uint8Array {
  const nIn = tx.inputs.length;
  if (inputIndex >= nIn) return ONE.slice();
  const base = hashType & 0x1f;
  const single = base === SIGHASH_SINGLE;
  const none = base === SIGHASH_NONE;
  const anyoneCanPay = (hashType & SIGHASH_ANYONECANPAY) !== 0;
  if (single && inputIndex >= tx.outputs.length) return ONE.slice();
  if (nIn < PARTS_MIN_INPUTS) return signatureHashPlain(scriptCode, tx, inputIndex, hashType);

  const p = parts(tx);
  const all = p.bytes;
  const cuts = codeSeparators(scriptCode);
  const codeLen = scriptCode.length - cuts.length;
  // Upper bound: every input, the signing one's scriptCode, all outputs or SINGLE's blanks and
  // output, locktime and hash type.
  const size = all.length + compactSizeLength(codeLen) + codeLen + 8 + inputIndex * BLANK_OUTPUT.length + 9;
  if (size > scratch.length) {
    scratch = new Uint8Array(Math.max(size, scratch.length * 2));
    scratchView = new DataView(scratch.buffer);
  }
  const b = scratch;
  const v = scratchView;
  const own = p.header + inputIndex * INPUT_BYTES;
  const inputs = single || none ? p.inputsZeroSeq() : all;
  let pos: number;
  // Inputs before the signing one, then its outpoint.
  if (anyoneCanPay) {
    b.set(all.subarray(0, 4), 0);
    b[4] = 1;
    b.set(all.subarray(own, own + 36), 5);
    pos = 41;
  } else {
    b.set(inputs.subarray(0, own + 36), 0);
    pos = own + 36;
  }
  // Its scriptCode and its own sequence (kept under NONE and SINGLE too).
  pos = writeCompactSize(v, pos, codeLen);
  let from = 0;
  for (const c of cuts) {
    b.set(scriptCode.subarray(from, c), pos);
    pos += c - from;
    from = c + 1;
  }
  b.set(scriptCode.subarray(from), pos);
  pos += scriptCode.length - from;
  v.setUint32(pos, tx.inputs[inputIndex].sequence, true);
  pos += 4;
  if (!single && !none) {
    // The inputs after it, every output and the locktime: one copy.
    const rest = anyoneCanPay ? p.outputsAt : own + INPUT_BYTES;
    b.set(all.subarray(rest), pos);
    pos += all.length - rest;
  } else {
    if (!anyoneCanPay) {
      b.set(inputs.subarray(own + INPUT_BYTES), pos);
      pos += p.outputsAt - own - INPUT_BYTES;
    }
    if (none) b[pos++] = 0;
    else {
      pos = writeCompactSize(v, pos, inputIndex + 1);
      for (let i = 0; i < inputIndex; i++) {
        b.set(BLANK_OUTPUT, pos);
        pos += BLANK_OUTPUT.length;
      }
      const out = p.output(inputIndex);
      b.set(out, pos);
      pos += out.length;
    }
    b.set(all.subarray(all.length - 4), pos);
    pos += 4;
  }
  v.setInt32(pos, hashType | 0, true);
  pos += 4;
  return sha256d(b.subarray(0, pos));
}

function writeCompactSize(v: DataView, pos: number, n: number): number {
  if (n < 0xfd) {
    v.setUint8(pos, n);
    return pos + 1;
  }
  if (n <= 0xffff) {
    v.setUint8(pos, 0xfd);
    v.setUint16(pos + 1, n, true);
    return pos + 3;
  }
  v.setUint8(pos, 0xfe);
  v.setUint32(pos + 1, n, true);
  return pos + 5;
}

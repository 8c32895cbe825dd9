// Bitcoin's legacy (pre-SegWit) signature hash, Core's SignatureHash for SigVersion BASE.
import { sha256d } from '../crypto/hash.js';
import { BufferWriter } from '../primitives/bytes.js';
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

/** The scriptCode as signed: OP_CODESEPARATORs removed (only real ones, up to a parse failure). */
function writeScriptCode(w: BufferWriter, script: Uint8Array): void {
  const op = newOp();
  const cuts: number[] = [];
  let pos = 0;
  while (readOp(script, pos, op)) {
    if (op.opcode === OP.OP_CODESEPARATOR) cuts.push(pos);
    pos = op.next;
  }
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
  if (inputIndex >= tx.inputs.length) return ONE.slice();
  const base = hashType & 0x1f;
  const single = base === SIGHASH_SINGLE;
  const none = base === SIGHASH_NONE;
  const anyoneCanPay = (hashType & SIGHASH_ANYONECANPAY) !== 0;
  if (single && inputIndex >= tx.outputs.length) return ONE.slice();

  const w = new BufferWriter(tx.size + scriptCode.length + 16);
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
  return sha256d(w.finish());
}

// Walking a script op by op (Core's GetScriptOp) and the small predicates built on it.
import { concatBytes } from '../primitives/bytes.js';
import { OP } from './opcodes.js';

/** Largest script the interpreter runs (Core's MAX_SCRIPT_SIZE). */
export const MAX_SCRIPT_SIZE = 10_000;

/**
 * Outputs no one can spend (Core's CScript::IsUnspendable): OP_RETURN first, or longer than any
 * script the interpreter runs. They never enter the UTXO set and are never dust.
 */
export function isUnspendable(script: Uint8Array): boolean {
  return (script.length > 0 && script[0] === OP.OP_RETURN) || script.length > MAX_SCRIPT_SIZE;
}

/** One decoded op. Reused across calls so the interpreter's inner loop allocates nothing. */
export interface Op {
  opcode: number;
  /** Push data is script[dataStart, dataEnd); empty for non-push opcodes. */
  dataStart: number;
  dataEnd: number;
  /** Position just after this op. */
  next: number;
}

export function newOp(): Op {
  return { opcode: 0, dataStart: 0, dataEnd: 0, next: 0 };
}

/**
 * Reads the op at `pos` into `out`. Returns false when the script ends inside a push (Core's
 * GetOp failure); `out.next` is then undefined.
 */
export function readOp(script: Uint8Array, pos: number, out: Op): boolean {
  const end = script.length;
  if (pos >= end) return false;
  const opcode = script[pos++];
  out.opcode = opcode;
  if (opcode > OP.OP_PUSHDATA4) {
    out.dataStart = out.dataEnd = out.next = pos;
    return true;
  }
  let size: number;
  if (opcode < OP.OP_PUSHDATA1) size = opcode;
  else if (opcode === OP.OP_PUSHDATA1) {
    if (end - pos < 1) return false;
    size = script[pos++];
  } else if (opcode === OP.OP_PUSHDATA2) {
    if (end - pos < 2) return false;
    size = script[pos] | (script[pos + 1] << 8);
    pos += 2;
  } else {
    if (end - pos < 4) return false;
    size = (script[pos] | (script[pos + 1] << 8) | (script[pos + 2] << 16)) + script[pos + 3] * 0x1000000;
    pos += 4;
  }
  if (end - pos < size) return false;
  out.dataStart = pos;
  out.dataEnd = pos + size;
  out.next = pos + size;
  return true;
}

/** Core's CScript::IsPushOnly: every op parses and is at most OP_16 (OP_RESERVED included). */
export function isPushOnly(script: Uint8Array): boolean {
  const op = newOp();
  let pos = 0;
  while (pos < script.length) {
    if (!readOp(script, pos, op) || op.opcode > OP.OP_16) return false;
    pos = op.next;
  }
  return true;
}

/** OP_HASH160 <20 bytes> OP_EQUAL, exactly as BIP16 matches it. */
export function isPayToScriptHash(script: Uint8Array): boolean {
  return (
    script.length === 23 && script[0] === OP.OP_HASH160 && script[1] === 0x14 && script[22] === OP.OP_EQUAL
  );
}

/** The push Core's `CScript() << data` writes: the shortest PUSHDATA form, no OP_n shortcut. */
export function serializePush(data: Uint8Array): Uint8Array {
  const n = data.length;
  let head: number[];
  if (n < OP.OP_PUSHDATA1) head = [n];
  else if (n <= 0xff) head = [OP.OP_PUSHDATA1, n];
  else if (n <= 0xffff) head = [OP.OP_PUSHDATA2, n & 0xff, n >> 8];
  else head = [OP.OP_PUSHDATA4, n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, n >>> 24];
  const out = new Uint8Array(head.length + n);
  out.set(head, 0);
  out.set(data, head.length);
  return out;
}

/**
 * Core's FindAndDelete: removes every occurrence of `needle` that starts on an op boundary.
 * Returns the script (the same object when nothing matched) and the number removed.
 */
export function findAndDelete(script: Uint8Array, needle: Uint8Array): { script: Uint8Array; found: number } {
  const n = needle.length;
  if (n === 0) return { script, found: 0 };
  const op = newOp();
  let found = 0;
  let parts: Uint8Array[] | null = null;
  let pc = 0;
  let pc2 = 0;
  const end = script.length;
  for (;;) {
    if (parts && pc > pc2) parts.push(script.subarray(pc2, pc));
    while (end - pc >= n && matchAt(script, pc, needle)) {
      if (!parts) parts = [script.subarray(0, pc)];
      pc += n;
      found++;
    }
    pc2 = pc;
    if (!readOp(script, pc, op)) break;
    pc = op.next;
  }
  if (!parts) return { script, found: 0 };
  parts.push(script.subarray(pc2, end));
  return { script: concatBytes(...parts), found };
}

/**
 * Core's `FindAndDelete(scriptCode, CScript() << sig)`, the signature cut from the code it signs.
 * A push longer than the script cannot occur in it (a P2PKH scriptCode is 25 bytes, a signature
 * 71 to 73): then it is not serialised or searched for at all.
 */
export function deleteSignature(script: Uint8Array, sig: Uint8Array): { script: Uint8Array; found: number } {
  const n = sig.length;
  const pushed = n < OP.OP_PUSHDATA1 ? n + 1 : n <= 0xff ? n + 2 : n <= 0xffff ? n + 3 : n + 5;
  if (pushed > script.length) return { script, found: 0 };
  return findAndDelete(script, serializePush(sig));
}

function matchAt(script: Uint8Array, pos: number, needle: Uint8Array): boolean {
  for (let i = 0; i < needle.length; i++) if (script[pos + i] !== needle[i]) return false;
  return true;
}

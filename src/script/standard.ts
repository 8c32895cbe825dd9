// Standard output templates: builders for the wallet and the recogniser (Core's Solver, legacy
// types only) that policy and the wallet share. Recognising never fails: anything else is
// 'nonstandard'. Builders throw RangeError on arguments no template allows.
import { encodeNum } from './num.js';
import { OP } from './opcodes.js';
import { isPayToScriptHash, isPushOnly, newOp, readOp, serializePush } from './script.js';

export { isPushOnly };

export type ScriptClass =
  | { type: 'pubkeyhash'; hash: Uint8Array }
  | { type: 'scripthash'; hash: Uint8Array }
  | { type: 'pubkey'; pubkey: Uint8Array }
  | { type: 'multisig'; m: number; pubkeys: Uint8Array[] }
  | { type: 'nulldata'; data: Uint8Array[] }
  | { type: 'nonstandard' };

/** The push that MINIMALDATA accepts: OP_0, OP_1NEGATE, OP_1..OP_16 or the shortest PUSHDATA. */
export function pushData(data: Uint8Array): Uint8Array {
  if (data.length === 0) return Uint8Array.of(OP.OP_0);
  if (data.length === 1 && data[0] >= 1 && data[0] <= 16) return Uint8Array.of(OP.OP_1 + data[0] - 1);
  if (data.length === 1 && data[0] === 0x81) return Uint8Array.of(OP.OP_1NEGATE);
  return serializePush(data);
}

/** A number as Core's `CScript() << n` writes it. */
export function pushNumber(n: number): Uint8Array {
  if (!Number.isSafeInteger(n)) throw new RangeError('pushNumber: not a safe integer');
  if (n === 0) return Uint8Array.of(OP.OP_0);
  if (n === -1 || (n >= 1 && n <= 16)) return Uint8Array.of(OP.OP_1 + n - 1);
  return serializePush(encodeNum(n));
}

function need20(hash: Uint8Array, what: string): void {
  if (hash.length !== 20) throw new RangeError(`${what}: expected a 20-byte hash`);
}

export function p2pkhScript(hash160: Uint8Array): Uint8Array {
  need20(hash160, 'p2pkhScript');
  return Uint8Array.from([OP.OP_DUP, OP.OP_HASH160, 0x14, ...hash160, OP.OP_EQUALVERIFY, OP.OP_CHECKSIG]);
}

export function p2shScript(hash160: Uint8Array): Uint8Array {
  need20(hash160, 'p2shScript');
  return Uint8Array.from([OP.OP_HASH160, 0x14, ...hash160, OP.OP_EQUAL]);
}

/** Core's CPubKey::ValidSize: the length the header byte announces. */
function validPubkeySize(p: Uint8Array): boolean {
  if (p.length === 33) return p[0] === 2 || p[0] === 3;
  if (p.length === 65) return p[0] === 4 || p[0] === 6 || p[0] === 7;
  return false;
}

export function p2pkScript(pubkey: Uint8Array): Uint8Array {
  if (!validPubkeySize(pubkey)) throw new RangeError('p2pkScript: not a 33- or 65-byte public key');
  return Uint8Array.from([pubkey.length, ...pubkey, OP.OP_CHECKSIG]);
}

/** m-of-n bare multisig, n up to 16 (the template's limit; policy allows 3). */
export function multisigScript(m: number, pubkeys: Uint8Array[]): Uint8Array {
  const n = pubkeys.length;
  if (!Number.isInteger(m) || m < 1 || m > n || n > 16)
    throw new RangeError('multisigScript: need 1 <= m <= n <= 16');
  const parts: number[] = [OP.OP_1 + m - 1];
  for (const k of pubkeys) {
    if (!validPubkeySize(k)) throw new RangeError('multisigScript: not a 33- or 65-byte public key');
    parts.push(k.length, ...k);
  }
  parts.push(OP.OP_1 + n - 1, OP.OP_CHECKMULTISIG);
  return Uint8Array.from(parts);
}

/** OP_RETURN followed by one push of `data` (an unspendable, prunable output). */
export function nullDataScript(data: Uint8Array): Uint8Array {
  const push = pushData(data);
  const out = new Uint8Array(1 + push.length);
  out[0] = OP.OP_RETURN;
  out.set(push, 1);
  return out;
}

function matchMultisig(script: Uint8Array): ScriptClass | null {
  if (script.length < 1 || script[script.length - 1] !== OP.OP_CHECKMULTISIG) return null;
  const op = newOp();
  if (!readOp(script, 0, op) || op.opcode < OP.OP_1 || op.opcode > OP.OP_16) return null;
  const m = op.opcode - OP.OP_1 + 1;
  let pos = op.next;
  const pubkeys: Uint8Array[] = [];
  while (readOp(script, pos, op) && op.opcode <= OP.OP_PUSHDATA4) {
    const data = script.subarray(op.dataStart, op.dataEnd);
    if (!validPubkeySize(data)) break;
    pubkeys.push(data);
    pos = op.next;
  }
  if (!readOp(script, pos, op) || op.opcode < OP.OP_1 || op.opcode > OP.OP_16) return null;
  const n = op.opcode - OP.OP_1 + 1;
  if (pubkeys.length !== n || n < m) return null;
  if (op.next + 1 !== script.length) return null;
  return { type: 'multisig', m, pubkeys };
}

/** Core's Solver for the legacy output types. */
export function classifyScript(script: Uint8Array): ScriptClass {
  const len = script.length;
  if (isPayToScriptHash(script)) return { type: 'scripthash', hash: script.subarray(2, 22) };
  if (
    len === 25 &&
    script[0] === OP.OP_DUP &&
    script[1] === OP.OP_HASH160 &&
    script[2] === 0x14 &&
    script[23] === OP.OP_EQUALVERIFY &&
    script[24] === OP.OP_CHECKSIG
  ) {
    return { type: 'pubkeyhash', hash: script.subarray(3, 23) };
  }
  if (len >= 1 && script[0] === OP.OP_RETURN && isPushOnly(script.subarray(1))) {
    const data: Uint8Array[] = [];
    const op = newOp();
    for (let pos = 1; pos < len; pos = op.next) {
      readOp(script, pos, op);
      data.push(script.subarray(op.dataStart, op.dataEnd));
    }
    return { type: 'nulldata', data };
  }
  if (
    (len === 35 || len === 67) &&
    script[0] === len - 2 &&
    script[len - 1] === OP.OP_CHECKSIG &&
    validPubkeySize(script.subarray(1, len - 1))
  ) {
    return { type: 'pubkey', pubkey: script.subarray(1, len - 1) };
  }
  return matchMultisig(script) ?? { type: 'nonstandard' };
}

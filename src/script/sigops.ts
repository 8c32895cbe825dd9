// Signature-operation counting for the block sigop limit: Core's GetSigOpCount (legacy and
// accurate), GetLegacySigOpCount and GetP2SHSigOpCount. Never fails: a malformed script counts
// what precedes the parse error.
import type { Tx } from '../primitives/tx.js';
import { MAX_PUBKEYS_PER_MULTISIG } from './interpreter.js';
import { OP } from './opcodes.js';
import { isPayToScriptHash, newOp, readOp } from './script.js';

/** `accurate` counts `OP_n CHECKMULTISIG` as n; otherwise every CHECKMULTISIG counts 20. */
export function countSigOps(script: Uint8Array, accurate: boolean): number {
  const op = newOp();
  let n = 0;
  let last = OP.OP_INVALIDOPCODE as number;
  for (let pos = 0; pos < script.length; pos = op.next) {
    if (!readOp(script, pos, op)) break;
    const c = op.opcode;
    if (c === OP.OP_CHECKSIG || c === OP.OP_CHECKSIGVERIFY) n++;
    else if (c === OP.OP_CHECKMULTISIG || c === OP.OP_CHECKMULTISIGVERIFY) {
      n += accurate && last >= OP.OP_1 && last <= OP.OP_16 ? last - OP.OP_1 + 1 : MAX_PUBKEYS_PER_MULTISIG;
    }
    last = c;
  }
  return n;
}

/** Sigops a P2SH spend runs: those of the redeem script, the scriptSig's last push. */
export function countP2SHSigOps(scriptPubKey: Uint8Array, scriptSig: Uint8Array): number {
  if (!isPayToScriptHash(scriptPubKey)) return countSigOps(scriptPubKey, true);
  const op = newOp();
  let lastStart = 0;
  let lastEnd = 0;
  for (let pos = 0; pos < scriptSig.length; pos = op.next) {
    if (!readOp(scriptSig, pos, op) || op.opcode > OP.OP_16) return 0;
    lastStart = op.dataStart;
    lastEnd = op.dataEnd;
  }
  return countSigOps(scriptSig.subarray(lastStart, lastEnd), true);
}

/** Every scriptSig and scriptPubKey of the transaction, counted the legacy (inaccurate) way. */
export function getLegacySigOpCount(tx: Tx): number {
  let n = 0;
  for (const i of tx.inputs) n += countSigOps(i.scriptSig, false);
  for (const o of tx.outputs) n += countSigOps(o.scriptPubKey, false);
  return n;
}

/** `prevScripts[i]` is the scriptPubKey input i spends. Coinbases count 0. */
export function getP2SHSigOpCount(tx: Tx, prevScripts: Uint8Array[]): number {
  if (tx.isCoinbase()) return 0;
  if (prevScripts.length !== tx.inputs.length)
    throw new RangeError('getP2SHSigOpCount: one script per input');
  let n = 0;
  for (let i = 0; i < tx.inputs.length; i++) {
    if (isPayToScriptHash(prevScripts[i])) n += countP2SHSigOps(prevScripts[i], tx.inputs[i].scriptSig);
  }
  return n;
}

// The script interpreter: Bitcoin Core's EvalScript and VerifyScript for legacy (non-witness)
// scripts, with P2SH, the lock-time opcodes and every policy flag of flags.ts.
// Owns: evaluation, limits, signature-encoding rules. Does not own: ECDSA itself (crypto/), the
// signature hash (sighash.ts) or what a signature or lock time is checked against (checker.ts).
// Fails by throwing ScriptError, and nothing else, on any input.
import { sha1 } from '@noble/hashes/legacy.js';
import { hash160, ripemd160, sha256, sha256d } from '../crypto/hash.js';
import { isLowS, isValidSignatureEncoding } from '../crypto/secp256k1.js';
import type { Tx, TxOut } from '../primitives/tx.js';
import { ScriptError, type ScriptErrorCode } from './errors.js';
import { ScriptFlags as F } from './flags.js';
import { castToBool, decodeNum, encodeNum } from './num.js';
import { OP } from './opcodes.js';
import { MAX_SCRIPT_SIZE, deleteSignature, isPayToScriptHash, isPushOnly, newOp, readOp } from './script.js';
import type { SigCache } from './sigcache.js';
import { SIGHASH_ANYONECANPAY, SIGHASH_ALL, SIGHASH_SINGLE } from './sighash.js';
import { type SignatureChecker, TxSignatureChecker } from './checker.js';

export { MAX_SCRIPT_SIZE };
export {
  LOCKTIME_THRESHOLD,
  NO_TX_CHECKER,
  SEQUENCE_FINAL,
  SEQUENCE_LOCKTIME_DISABLE_FLAG,
  SEQUENCE_LOCKTIME_MASK,
  SEQUENCE_LOCKTIME_TYPE_FLAG,
  type SignatureChecker,
  TxSignatureChecker,
} from './checker.js';
export const MAX_SCRIPT_ELEMENT_SIZE = 520;
export const MAX_OPS_PER_SCRIPT = 201;
export const MAX_STACK_SIZE = 1000;
export const MAX_PUBKEYS_PER_MULTISIG = 20;
const TRUE = Uint8Array.of(1);
const FALSE = new Uint8Array(0);

function fail(code: ScriptErrorCode): never {
  throw new ScriptError(code);
}

function checkMinimalPush(data: Uint8Array, opcode: number): boolean {
  const n = data.length;
  if (n === 0) return opcode === OP.OP_0;
  if (n === 1 && data[0] >= 1 && data[0] <= 16) return false;
  if (n === 1 && data[0] === 0x81) return false;
  if (n <= 75) return opcode === n;
  if (n <= 255) return opcode === OP.OP_PUSHDATA1;
  if (n <= 65535) return opcode === OP.OP_PUSHDATA2;
  return true;
}

function checkSignatureEncoding(sig: Uint8Array, flags: number): void {
  // An empty signature is the compact way to make CHECK(MULTI)SIG fail on purpose.
  if (sig.length === 0) return;
  if (flags & (F.DERSIG | F.LOW_S | F.STRICTENC) && !isValidSignatureEncoding(sig)) fail('SIG_DER');
  if (flags & F.LOW_S && !isLowS(sig.subarray(0, sig.length - 1))) fail('SIG_HIGH_S');
  if (flags & F.STRICTENC) {
    const base = sig[sig.length - 1] & ~SIGHASH_ANYONECANPAY;
    if (base < SIGHASH_ALL || base > SIGHASH_SINGLE) fail('SIG_HASHTYPE');
  }
}

function checkPubKeyEncoding(pub: Uint8Array, flags: number): void {
  if (!(flags & F.STRICTENC)) return;
  const ok = (pub.length === 33 && (pub[0] === 2 || pub[0] === 3)) || (pub.length === 65 && pub[0] === 4);
  if (!ok) fail('PUBKEYTYPE');
}

function isDisabled(op: number): boolean {
  return (
    (op >= OP.OP_CAT && op <= OP.OP_RIGHT) ||
    (op >= OP.OP_INVERT && op <= OP.OP_XOR) ||
    op === OP.OP_2MUL ||
    op === OP.OP_2DIV ||
    (op >= OP.OP_MUL && op <= OP.OP_RSHIFT)
  );
}

/**
 * Core's EvalScript (SigVersion BASE): runs `script` on `stack`, which it changes in place.
 * Throws ScriptError on failure.
 */
export function evalScript(
  stack: Uint8Array[],
  script: Uint8Array,
  flags: number,
  checker: SignatureChecker,
): void {
  if (script.length > MAX_SCRIPT_SIZE) fail('SCRIPT_SIZE');
  const minimal = (flags & F.MINIMALDATA) !== 0;
  const altstack: Uint8Array[] = [];
  // Execution state of nested IFs, kept as Core's ConditionStack does: a depth and the position
  // of the first false entry, so checking "all true" costs nothing.
  let condDepth = 0;
  let firstFalse = -1;
  let opCount = 0;
  let codeHashStart = 0;
  const op = newOp();
  const end = script.length;
  let pc = 0;

  const top = (i: number): Uint8Array => {
    if (stack.length < i) fail('INVALID_STACK_OPERATION');
    return stack[stack.length - i];
  };
  const need = (n: number): void => {
    if (stack.length < n) fail('INVALID_STACK_OPERATION');
  };
  const num = (i: number): number => decodeNum(stack[stack.length - i], minimal);

  while (pc < end) {
    const exec = firstFalse === -1;
    if (!readOp(script, pc, op)) fail('BAD_OPCODE');
    pc = op.next;
    const opcode = op.opcode;
    if (op.dataEnd - op.dataStart > MAX_SCRIPT_ELEMENT_SIZE) fail('PUSH_SIZE');
    if (opcode > OP.OP_16 && ++opCount > MAX_OPS_PER_SCRIPT) fail('OP_COUNT');
    if (isDisabled(opcode)) fail('DISABLED_OPCODE');
    if (opcode === OP.OP_CODESEPARATOR && flags & F.CONST_SCRIPTCODE) fail('OP_CODESEPARATOR');

    if (opcode <= OP.OP_PUSHDATA4) {
      if (exec) {
        const data = script.subarray(op.dataStart, op.dataEnd);
        if (minimal && !checkMinimalPush(data, opcode)) fail('MINIMALDATA');
        stack.push(data);
      }
    } else if (exec || (opcode >= OP.OP_IF && opcode <= OP.OP_ENDIF)) {
      switch (opcode) {
        case OP.OP_1NEGATE:
        case OP.OP_1:
        case OP.OP_2:
        case OP.OP_3:
        case OP.OP_4:
        case OP.OP_5:
        case OP.OP_6:
        case OP.OP_7:
        case OP.OP_8:
        case OP.OP_9:
        case OP.OP_10:
        case OP.OP_11:
        case OP.OP_12:
        case OP.OP_13:
        case OP.OP_14:
        case OP.OP_15:
        case OP.OP_16:
          stack.push(encodeNum(opcode - (OP.OP_1 - 1)));
          break;
        case OP.OP_NOP:
          break;
        case OP.OP_CHECKLOCKTIMEVERIFY: {
          // Not enabled: a plain NOP2 (modern Core no longer discourages it).
          if (!(flags & F.CHECKLOCKTIMEVERIFY)) break;
          need(1);
          // 5 bytes: lock times up to 2^39-1 must be expressible, past 2038.
          const lockTime = decodeNum(top(1), minimal, 5);
          if (lockTime < 0) fail('NEGATIVE_LOCKTIME');
          if (!checker.checkLockTime(lockTime)) fail('UNSATISFIED_LOCKTIME');
          break;
        }
        case OP.OP_CHECKSEQUENCEVERIFY: {
          if (!(flags & F.CHECKSEQUENCEVERIFY)) break;
          need(1);
          const sequence = decodeNum(top(1), minimal, 5);
          if (sequence < 0) fail('NEGATIVE_LOCKTIME');
          // The disable flag leaves the input's relative lock-time unconstrained: soft-fork room.
          if (sequence >= 0x80000000 && sequence % 0x100000000 >= 0x80000000) break;
          if (!checker.checkSequence(sequence % 0x100000000)) fail('UNSATISFIED_LOCKTIME');
          break;
        }
        case OP.OP_NOP1:
        case OP.OP_NOP4:
        case OP.OP_NOP5:
        case OP.OP_NOP6:
        case OP.OP_NOP7:
        case OP.OP_NOP8:
        case OP.OP_NOP9:
        case OP.OP_NOP10:
          if (flags & F.DISCOURAGE_UPGRADABLE_NOPS) fail('DISCOURAGE_UPGRADABLE_NOPS');
          break;
        case OP.OP_IF:
        case OP.OP_NOTIF: {
          let value = false;
          if (exec) {
            if (stack.length < 1) fail('INVALID_STACK_OPERATION');
            value = castToBool(stack[stack.length - 1]);
            if (opcode === OP.OP_NOTIF) value = !value;
            stack.pop();
          }
          if (!value && firstFalse === -1) firstFalse = condDepth;
          condDepth++;
          break;
        }
        case OP.OP_ELSE:
          if (condDepth === 0) fail('UNBALANCED_CONDITIONAL');
          // Toggle the top entry; only the first false entry matters for "all true".
          if (firstFalse === -1) firstFalse = condDepth - 1;
          else if (firstFalse === condDepth - 1) firstFalse = -1;
          break;
        case OP.OP_ENDIF:
          if (condDepth === 0) fail('UNBALANCED_CONDITIONAL');
          condDepth--;
          if (firstFalse === condDepth) firstFalse = -1;
          break;
        case OP.OP_VERIFY:
          if (!castToBool(top(1))) fail('VERIFY');
          stack.pop();
          break;
        case OP.OP_RETURN:
          fail('OP_RETURN');
          break;
        case OP.OP_TOALTSTACK:
          altstack.push(top(1));
          stack.pop();
          break;
        case OP.OP_FROMALTSTACK:
          if (altstack.length < 1) fail('INVALID_ALTSTACK_OPERATION');
          stack.push(altstack.pop() as Uint8Array);
          break;
        case OP.OP_2DROP:
          need(2);
          stack.length -= 2;
          break;
        case OP.OP_2DUP: {
          need(2);
          const a = top(2);
          const b = top(1);
          stack.push(a, b);
          break;
        }
        case OP.OP_3DUP: {
          need(3);
          const a = top(3);
          const b = top(2);
          const c = top(1);
          stack.push(a, b, c);
          break;
        }
        case OP.OP_2OVER: {
          need(4);
          const a = top(4);
          const b = top(3);
          stack.push(a, b);
          break;
        }
        case OP.OP_2ROT: {
          need(6);
          const moved = stack.splice(stack.length - 6, 2);
          stack.push(moved[0], moved[1]);
          break;
        }
        case OP.OP_2SWAP: {
          need(4);
          const n = stack.length;
          const a = stack[n - 4];
          const b = stack[n - 3];
          stack[n - 4] = stack[n - 2];
          stack[n - 3] = stack[n - 1];
          stack[n - 2] = a;
          stack[n - 1] = b;
          break;
        }
        case OP.OP_IFDUP: {
          const a = top(1);
          if (castToBool(a)) stack.push(a);
          break;
        }
        case OP.OP_DEPTH:
          stack.push(encodeNum(stack.length));
          break;
        case OP.OP_DROP:
          need(1);
          stack.pop();
          break;
        case OP.OP_DUP:
          stack.push(top(1));
          break;
        case OP.OP_NIP:
          need(2);
          stack.splice(stack.length - 2, 1);
          break;
        case OP.OP_OVER:
          stack.push(top(2));
          break;
        case OP.OP_PICK:
        case OP.OP_ROLL: {
          need(2);
          const n = num(1);
          stack.pop();
          if (n < 0 || n >= stack.length) fail('INVALID_STACK_OPERATION');
          const idx = stack.length - n - 1;
          const v = stack[idx];
          if (opcode === OP.OP_ROLL) stack.splice(idx, 1);
          stack.push(v);
          break;
        }
        case OP.OP_ROT: {
          need(3);
          const n = stack.length;
          const a = stack[n - 3];
          stack[n - 3] = stack[n - 2];
          stack[n - 2] = stack[n - 1];
          stack[n - 1] = a;
          break;
        }
        case OP.OP_SWAP: {
          need(2);
          const n = stack.length;
          const a = stack[n - 2];
          stack[n - 2] = stack[n - 1];
          stack[n - 1] = a;
          break;
        }
        case OP.OP_TUCK: {
          need(2);
          stack.splice(stack.length - 2, 0, stack[stack.length - 1]);
          break;
        }
        case OP.OP_SIZE:
          stack.push(encodeNum(top(1).length));
          break;
        case OP.OP_EQUAL:
        case OP.OP_EQUALVERIFY: {
          need(2);
          const a = stack[stack.length - 2];
          const b = stack[stack.length - 1];
          let equal = a.length === b.length;
          for (let i = 0; equal && i < a.length; i++) if (a[i] !== b[i]) equal = false;
          stack.length -= 2;
          if (opcode === OP.OP_EQUALVERIFY) {
            if (!equal) fail('EQUALVERIFY');
          } else stack.push(equal ? TRUE : FALSE);
          break;
        }
        case OP.OP_1ADD:
        case OP.OP_1SUB:
        case OP.OP_NEGATE:
        case OP.OP_ABS:
        case OP.OP_NOT:
        case OP.OP_0NOTEQUAL: {
          need(1);
          let n = num(1);
          if (opcode === OP.OP_1ADD) n += 1;
          else if (opcode === OP.OP_1SUB) n -= 1;
          else if (opcode === OP.OP_NEGATE) n = -n;
          else if (opcode === OP.OP_ABS) n = Math.abs(n);
          else if (opcode === OP.OP_NOT) n = n === 0 ? 1 : 0;
          else n = n !== 0 ? 1 : 0;
          stack[stack.length - 1] = encodeNum(n);
          break;
        }
        case OP.OP_ADD:
        case OP.OP_SUB:
        case OP.OP_BOOLAND:
        case OP.OP_BOOLOR:
        case OP.OP_NUMEQUAL:
        case OP.OP_NUMEQUALVERIFY:
        case OP.OP_NUMNOTEQUAL:
        case OP.OP_LESSTHAN:
        case OP.OP_GREATERTHAN:
        case OP.OP_LESSTHANOREQUAL:
        case OP.OP_GREATERTHANOREQUAL:
        case OP.OP_MIN:
        case OP.OP_MAX: {
          need(2);
          const a = num(2);
          const b = num(1);
          let r: number;
          switch (opcode) {
            case OP.OP_ADD:
              r = a + b;
              break;
            case OP.OP_SUB:
              r = a - b;
              break;
            case OP.OP_BOOLAND:
              r = +(a !== 0 && b !== 0);
              break;
            case OP.OP_BOOLOR:
              r = +(a !== 0 || b !== 0);
              break;
            case OP.OP_NUMEQUAL:
            case OP.OP_NUMEQUALVERIFY:
              r = +(a === b);
              break;
            case OP.OP_NUMNOTEQUAL:
              r = +(a !== b);
              break;
            case OP.OP_LESSTHAN:
              r = +(a < b);
              break;
            case OP.OP_GREATERTHAN:
              r = +(a > b);
              break;
            case OP.OP_LESSTHANOREQUAL:
              r = +(a <= b);
              break;
            case OP.OP_GREATERTHANOREQUAL:
              r = +(a >= b);
              break;
            case OP.OP_MIN:
              r = Math.min(a, b);
              break;
            default:
              r = Math.max(a, b);
          }
          stack.length -= 2;
          if (opcode === OP.OP_NUMEQUALVERIFY) {
            if (!r) fail('NUMEQUALVERIFY');
          } else stack.push(encodeNum(r));
          break;
        }
        case OP.OP_WITHIN: {
          need(3);
          const x = num(3);
          const lo = num(2);
          const hi = num(1);
          stack.length -= 3;
          stack.push(lo <= x && x < hi ? TRUE : FALSE);
          break;
        }
        case OP.OP_RIPEMD160:
        case OP.OP_SHA1:
        case OP.OP_SHA256:
        case OP.OP_HASH160:
        case OP.OP_HASH256: {
          const v = top(1);
          stack[stack.length - 1] =
            opcode === OP.OP_RIPEMD160
              ? ripemd160(v)
              : opcode === OP.OP_SHA1
                ? sha1(v)
                : opcode === OP.OP_SHA256
                  ? sha256(v)
                  : opcode === OP.OP_HASH160
                    ? hash160(v)
                    : sha256d(v);
          break;
        }
        case OP.OP_CODESEPARATOR:
          codeHashStart = pc;
          break;
        case OP.OP_CHECKSIG:
        case OP.OP_CHECKSIGVERIFY: {
          need(2);
          const sig = stack[stack.length - 2];
          const pub = stack[stack.length - 1];
          let scriptCode = script.subarray(codeHashStart);
          // Pre-SegWit, a signature cannot sign itself: it is cut from the code it signs.
          const del = deleteSignature(scriptCode, sig);
          if (del.found > 0 && flags & F.CONST_SCRIPTCODE) fail('SIG_FINDANDDELETE');
          scriptCode = del.script;
          checkSignatureEncoding(sig, flags);
          checkPubKeyEncoding(pub, flags);
          const ok = checker.checkSig(sig, pub, scriptCode);
          if (!ok && flags & F.NULLFAIL && sig.length) fail('NULLFAIL');
          stack.length -= 2;
          if (opcode === OP.OP_CHECKSIGVERIFY) {
            if (!ok) fail('CHECKSIGVERIFY');
          } else stack.push(ok ? TRUE : FALSE);
          break;
        }
        case OP.OP_CHECKMULTISIG:
        case OP.OP_CHECKMULTISIGVERIFY: {
          let i = 1;
          need(i);
          let nKeys = num(i);
          if (nKeys < 0 || nKeys > MAX_PUBKEYS_PER_MULTISIG) fail('PUBKEY_COUNT');
          opCount += nKeys;
          if (opCount > MAX_OPS_PER_SCRIPT) fail('OP_COUNT');
          let ikey = ++i;
          // Position of the last non-signature item, for the NULLFAIL clean-up below.
          let ikey2 = nKeys + 2;
          i += nKeys;
          need(i);
          let nSigs = num(i);
          if (nSigs < 0 || nSigs > nKeys) fail('SIG_COUNT');
          let isig = ++i;
          i += nSigs;
          need(i);
          let scriptCode = script.subarray(codeHashStart);
          for (let k = 0; k < nSigs; k++) {
            const del = deleteSignature(scriptCode, top(isig + k));
            if (del.found > 0 && flags & F.CONST_SCRIPTCODE) fail('SIG_FINDANDDELETE');
            scriptCode = del.script;
          }
          let success = true;
          while (success && nSigs > 0) {
            const sig = top(isig);
            const pub = top(ikey);
            // The order of checks makes key/signature evaluation order observable under STRICTENC.
            checkSignatureEncoding(sig, flags);
            checkPubKeyEncoding(pub, flags);
            if (checker.checkSig(sig, pub, scriptCode)) {
              isig++;
              nSigs--;
            }
            ikey++;
            nKeys--;
            // More signatures left than keys: the remaining ones cannot all match.
            if (nSigs > nKeys) success = false;
          }
          while (i-- > 1) {
            if (!success && flags & F.NULLFAIL && !ikey2 && stack[stack.length - 1].length) fail('NULLFAIL');
            if (ikey2 > 0) ikey2--;
            stack.pop();
          }
          // Satoshi's off-by-one: one extra item is consumed; NULLDUMMY pins it to empty.
          need(1);
          if (flags & F.NULLDUMMY && stack[stack.length - 1].length) fail('SIG_NULLDUMMY');
          stack.pop();
          if (opcode === OP.OP_CHECKMULTISIGVERIFY) {
            if (!success) fail('CHECKMULTISIGVERIFY');
          } else stack.push(success ? TRUE : FALSE);
          break;
        }
        default:
          fail('BAD_OPCODE');
      }
    }
    if (stack.length + altstack.length > MAX_STACK_SIZE) fail('STACK_SIZE');
  }
  if (condDepth !== 0) fail('UNBALANCED_CONDITIONAL');
}

/**
 * Core's VerifyScript without witness: scriptSig then scriptPubKey on one stack (never
 * concatenated, CVE-2010-5141), then the BIP16 redeem script, then CLEANSTACK.
 * CLEANSTACK is only meaningful together with P2SH, as in Core.
 */
export function verifyScript(
  scriptSig: Uint8Array,
  scriptPubKey: Uint8Array,
  flags: number,
  checker: SignatureChecker,
): void {
  if (flags & F.SIGPUSHONLY && !isPushOnly(scriptSig)) fail('SIG_PUSHONLY');
  let stack: Uint8Array[] = [];
  evalScript(stack, scriptSig, flags, checker);
  const p2sh = (flags & F.P2SH) !== 0 && isPayToScriptHash(scriptPubKey);
  const copy = p2sh ? stack.slice() : null;
  evalScript(stack, scriptPubKey, flags, checker);
  if (stack.length === 0 || !castToBool(stack[stack.length - 1])) fail('EVAL_FALSE');
  if (copy) {
    if (!isPushOnly(scriptSig)) fail('SIG_PUSHONLY');
    stack = copy;
    // Not empty: the P2SH template itself would have failed on an empty stack.
    const redeem = stack.pop() as Uint8Array;
    evalScript(stack, redeem, flags, checker);
    if (stack.length === 0 || !castToBool(stack[stack.length - 1])) fail('EVAL_FALSE');
  }
  if (flags & F.CLEANSTACK && stack.length !== 1) fail('CLEANSTACK');
}

/** Verifies input `inputIndex` of `tx` against the output it spends. Throws ScriptError. */
export function verifyInput(
  tx: Tx,
  inputIndex: number,
  prevOut: TxOut,
  flags: number,
  sigCache?: SigCache,
): void {
  const checker = new TxSignatureChecker(tx, inputIndex, prevOut.value, sigCache);
  verifyScript(tx.inputs[inputIndex].scriptSig, prevOut.scriptPubKey, flags, checker);
}

// The signature checker the interpreter asks about the transaction being verified (Core's
// BaseSignatureChecker and GenericTransactionSignatureChecker): ECDSA over the legacy signature
// hash, through the signature cache when one is given, and the CHECKLOCKTIMEVERIFY and
// CHECKSEQUENCEVERIFY comparisons. Owns those answers only; signature encoding rules are the
// interpreter's. Fails by answering false, never by throwing on a bad signature or key.
import type { Tx } from '../primitives/tx.js';
import { verifyDer } from '../crypto/secp256k1.js';
import { SigCache } from './sigcache.js';
import { signatureHash } from './sighash.js';

export const LOCKTIME_THRESHOLD = 500_000_000;
export const SEQUENCE_FINAL = 0xffffffff;
export const SEQUENCE_LOCKTIME_DISABLE_FLAG = 0x80000000;
export const SEQUENCE_LOCKTIME_TYPE_FLAG = 1 << 22;
export const SEQUENCE_LOCKTIME_MASK = 0x0000ffff;

/** What the interpreter asks of the transaction being verified. */
export interface SignatureChecker {
  /** `sig` still carries its hash-type byte; `scriptCode` is after FindAndDelete. */
  checkSig(sig: Uint8Array, pubkey: Uint8Array, scriptCode: Uint8Array): boolean;
  checkLockTime(lockTime: number): boolean;
  checkSequence(sequence: number): boolean;
}

/** A checker with no transaction: every signature and lock-time check fails (Core's base checker). */
export const NO_TX_CHECKER: SignatureChecker = {
  checkSig: () => false,
  checkLockTime: () => false,
  checkSequence: () => false,
};

/** Checks signatures against input `inputIndex` of `tx`; `amount` is unused by the legacy sighash. */
export class TxSignatureChecker implements SignatureChecker {
  constructor(
    readonly tx: Tx,
    readonly inputIndex: number,
    readonly amount: bigint,
    readonly sigCache?: SigCache,
  ) {}

  checkSig(sig: Uint8Array, pubkey: Uint8Array, scriptCode: Uint8Array): boolean {
    if (sig.length === 0) return false;
    const hashType = sig[sig.length - 1];
    const sighash = signatureHash(scriptCode, this.tx, this.inputIndex, hashType);
    const cache = this.sigCache;
    let key: string | undefined;
    if (cache) {
      key = SigCache.key(sighash, pubkey, sig);
      if (cache.has(key)) return true;
    }
    const ok = verifyDer(sig.subarray(0, sig.length - 1), sighash, pubkey);
    if (ok && cache) cache.add(key as string);
    return ok;
  }

  checkLockTime(lockTime: number): boolean {
    const txLock = this.tx.locktime;
    if (txLock < LOCKTIME_THRESHOLD !== lockTime < LOCKTIME_THRESHOLD) return false;
    if (lockTime > txLock) return false;
    // A final input disables nLockTime altogether, which would let CLTV be bypassed.
    return this.tx.inputs[this.inputIndex].sequence !== SEQUENCE_FINAL;
  }

  checkSequence(sequence: number): boolean {
    const txSeq = this.tx.inputs[this.inputIndex].sequence;
    // Version is unsigned, as Core now reads it (BIP68 applies from version 2).
    if (this.tx.version < 2) return false;
    if (txSeq & SEQUENCE_LOCKTIME_DISABLE_FLAG) return false;
    const mask = SEQUENCE_LOCKTIME_TYPE_FLAG | SEQUENCE_LOCKTIME_MASK;
    const txMasked = txSeq & mask;
    const masked = sequence & mask;
    if (txMasked < SEQUENCE_LOCKTIME_TYPE_FLAG !== masked < SEQUENCE_LOCKTIME_TYPE_FLAG) return false;
    return masked <= txMasked;
  }
}

// Producing and merging legacy scriptSigs, as Bitcoin Core's script/sign.cpp (DataFromTransaction,
// MergeSignatureData, ProduceSignature) for the pre-SegWit output types: P2PKH, P2PK, bare
// multisig, and P2SH wrapping any of them. Keys and redeem scripts come from a SigningProvider (the
// caller's WIF keys and prevtxs' redeemScripts, or nothing when only merging). Signatures already
// in an input's scriptSig are found by checking each against the transaction and kept, so a second
// signer, or combinerawtransaction, completes a multisig that a first one began. An incomplete
// multisig is laid out as Core lays it out: OP_0, the signatures made so far in key order, an
// empty push for each one missing, then the redeem script for P2SH. Pure: RFC 6979 signatures, no
// clock, no randomness. Does not own which coins an input spends (the caller looks them up) nor
// the verdict on the result (the caller verifies and words the error).
import { hash160 } from '../crypto/hash.js';
import { signDerLowR } from '../crypto/secp256k1.js';
import { bytesToHex, concatBytes, equalBytes } from '../primitives/bytes.js';
import { Tx, TxIn, type TxOut } from '../primitives/tx.js';
import { ScriptError } from './errors.js';
import { STANDARD_SCRIPT_FLAGS } from './flags.js';
import { evalScript, NO_TX_CHECKER, TxSignatureChecker, verifyInput } from './interpreter.js';
import { isPushOnly } from './script.js';
import { signatureHash } from './sighash.js';
import { classifyScript, pushData } from './standard.js';

/** What a signer holds: keys by key id (hash160 of the public key) and scripts by script id. */
export interface SigningProvider {
  key(keyId: Uint8Array): { privateKey: Uint8Array; publicKey: Uint8Array } | undefined;
  script(scriptId: Uint8Array): Uint8Array | undefined;
}

export const EMPTY_PROVIDER: SigningProvider = { key: () => undefined, script: () => undefined };

/** Core's SignatureData for legacy inputs. */
export interface SignatureData {
  /** The scriptSig already satisfies the output under the standard flags. */
  complete: boolean;
  scriptSig: Uint8Array;
  /** Valid signatures (hash type byte included) by the hex of the public key they verify under. */
  signatures: Map<string, Uint8Array>;
  /** Public keys seen in P2PKH scriptSigs, by the hex of their key id. */
  pubkeys: Map<string, Uint8Array>;
  redeemScript?: Uint8Array;
}

function passes(tx: Tx, index: number, prevOut: TxOut): boolean {
  try {
    verifyInput(tx, index, prevOut, STANDARD_SCRIPT_FLAGS);
    return true;
  } catch (e) {
    if (e instanceof ScriptError) return false;
    throw e;
  }
}

/**
 * Core's DataFromTransaction: what input `index`'s scriptSig already holds for `prevOut`: whether
 * it is complete, else each signature that verifies and the keys and redeem script it shows.
 */
export function dataFromTransaction(tx: Tx, index: number, prevOut: TxOut): SignatureData {
  const scriptSig = tx.inputs[index].scriptSig;
  const data: SignatureData = { complete: false, scriptSig, signatures: new Map(), pubkeys: new Map() };
  if (passes(tx, index, prevOut)) return { ...data, complete: true };
  if (!isPushOnly(scriptSig)) return data;
  const stack: Uint8Array[] = [];
  try {
    evalScript(stack, scriptSig, 0, NO_TX_CHECKER);
  } catch (e) {
    if (e instanceof ScriptError) return data;
    throw e;
  }
  let script = prevOut.scriptPubKey;
  let c = classifyScript(script);
  if (c.type === 'scripthash' && stack.length > 0 && equalBytes(hash160(stack[stack.length - 1]), c.hash)) {
    script = stack.pop()!;
    data.redeemScript = script;
    c = classifyScript(script);
  }
  const checker = new TxSignatureChecker(tx, index, prevOut.value);
  const take = (sig: Uint8Array, pubkey: Uint8Array): boolean => {
    if (sig.length === 0 || !checker.checkSig(sig, pubkey, script)) return false;
    data.signatures.set(bytesToHex(pubkey), sig);
    return true;
  };
  if (c.type === 'pubkeyhash' && stack.length === 2 && equalBytes(hash160(stack[1]), c.hash)) {
    data.pubkeys.set(bytesToHex(c.hash), stack[1]);
    take(stack[0], stack[1]);
  } else if (c.type === 'pubkey' && stack.length === 1) take(stack[0], c.pubkey);
  else if (c.type === 'multisig')
    for (const sig of stack.slice(1))
      for (const pk of c.pubkeys) if (!data.signatures.has(bytesToHex(pk)) && take(sig, pk)) break;
  return data;
}

/** Core's MergeSignatureData: a complete one wins, otherwise signatures and keys are pooled. */
export function mergeSignatureData(a: SignatureData, b: SignatureData): SignatureData {
  if (a.complete) return a;
  if (b.complete) return b;
  return {
    complete: false,
    scriptSig: a.scriptSig,
    signatures: new Map([...b.signatures, ...a.signatures]),
    pubkeys: new Map([...b.pubkeys, ...a.pubkeys]),
    redeemScript: a.redeemScript ?? b.redeemScript,
  };
}

/**
 * Core's ProduceSignature: signs input `index` (spending `prevOut`) with what `provider` holds and
 * the signatures `data` already has, and returns the scriptSig to put in. `complete` says whether
 * it satisfies the output under the standard flags.
 */
export function produceSignature(
  tx: Tx,
  index: number,
  prevOut: TxOut,
  provider: SigningProvider,
  hashType: number,
  data: SignatureData,
): { scriptSig: Uint8Array; complete: boolean } {
  if (data.complete) return { scriptSig: data.scriptSig, complete: true };
  const sign = (pubkey: Uint8Array, scriptCode: Uint8Array): Uint8Array | undefined => {
    const known = data.signatures.get(bytesToHex(pubkey));
    if (known !== undefined) return known;
    const key = provider.key(hash160(pubkey));
    if (key === undefined || !equalBytes(key.publicKey, pubkey)) return undefined;
    const hash = signatureHash(scriptCode, tx, index, hashType);
    const sig = concatBytes(signDerLowR(hash, key.privateKey), Uint8Array.of(hashType));
    data.signatures.set(bytesToHex(pubkey), sig);
    return sig;
  };
  /** Core's SignStep: the pushes for one script, and whether they solve it. */
  const step = (script: Uint8Array): { solved: boolean; pushes: Uint8Array[]; redeem?: Uint8Array } => {
    const c = classifyScript(script);
    switch (c.type) {
      case 'pubkeyhash': {
        const pubkey = provider.key(c.hash)?.publicKey ?? data.pubkeys.get(bytesToHex(c.hash));
        const sig = pubkey && sign(pubkey, script);
        return sig ? { solved: true, pushes: [sig, pubkey] } : { solved: false, pushes: [] };
      }
      case 'pubkey': {
        const sig = sign(c.pubkey, script);
        return sig ? { solved: true, pushes: [sig] } : { solved: false, pushes: [] };
      }
      case 'multisig': {
        // OP_0 for CHECKMULTISIG's extra pop; then signatures in key order, empties for the rest.
        const pushes: Uint8Array[] = [new Uint8Array(0)];
        for (const pk of c.pubkeys) {
          if (pushes.length === c.m + 1) break;
          const sig = sign(pk, script);
          if (sig) pushes.push(sig);
        }
        const solved = pushes.length === c.m + 1;
        while (pushes.length < c.m + 1) pushes.push(new Uint8Array(0));
        return { solved, pushes };
      }
      case 'scripthash': {
        const known = data.redeemScript;
        const redeem =
          provider.script(c.hash) ?? (known && equalBytes(hash160(known), c.hash) ? known : undefined);
        return redeem ? { solved: true, pushes: [], redeem } : { solved: false, pushes: [] };
      }
      default:
        return { solved: false, pushes: [] };
    }
  };
  let result = step(prevOut.scriptPubKey);
  if (result.redeem !== undefined) {
    const redeem = result.redeem;
    const inner = classifyScript(redeem).type === 'scripthash' ? { solved: false, pushes: [] } : step(redeem);
    result = { solved: inner.solved, pushes: [...inner.pushes, redeem] };
  }
  const scriptSig = concatBytes(...result.pushes.map(pushData));
  if (!result.solved) return { scriptSig, complete: false };
  return { scriptSig, complete: passes(withScriptSig(tx, index, scriptSig), index, prevOut) };
}

/** `tx` with input `index`'s scriptSig replaced. */
export function withScriptSig(tx: Tx, index: number, scriptSig: Uint8Array): Tx {
  const inputs = tx.inputs.map((i, n) => (n === index ? new TxIn(i.prevout, scriptSig, i.sequence) : i));
  return new Tx(tx.version, inputs, tx.outputs, tx.locktime);
}

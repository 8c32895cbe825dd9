// Signing the wallet's inputs: legacy signature hash, RFC 6979 low-S DER signatures. A P2PKH
// output (of an HD key or an imported one) gets <sig+hashtype> <pubkey>; a P2SH multisig output
// whose redeem script the wallet knows (addmultisigaddress) gets OP_0 <sig>... <redeemScript>, the
// signatures in the order of the script's keys (only its own share when it holds fewer than m). Private keys stay inside the wallet's
// withKeyOfPubkey and are zeroed after each input (HD keys) or at lock (imported keys). Fails with
// WalletLockedError when locked.
import { signDerLowR } from '../crypto/secp256k1.js';
import { concatBytes } from '../primitives/bytes.js';
import { Tx, TxIn } from '../primitives/tx.js';
import { OP } from '../script/opcodes.js';
import { SIGHASH_ALL, SIGHASH_SINGLE, signatureHash } from '../script/sighash.js';
import { classifyScript, pushData } from '../script/standard.js';
import { multisigOf } from './imported.js';
import type { Coin, Wallet } from './wallet.js';

function withScriptSig(tx: Tx, index: number, scriptSig: Uint8Array): Tx {
  const inputs = tx.inputs.map((i, n) => (n === index ? new TxIn(i.prevout, scriptSig, i.sequence) : i));
  return new Tx(tx.version, inputs, tx.outputs, tx.locktime);
}

/** Signs input `index` spending a P2PKH output with `prevScript`: <sig+hashtype> <pubkey>. */
export function signP2PKHInput(
  tx: Tx,
  index: number,
  prevScript: Uint8Array,
  privateKey: Uint8Array,
  publicKey: Uint8Array,
  hashType: number = SIGHASH_ALL,
): Tx {
  const hash = signatureHash(prevScript, tx, index, hashType);
  const sig = concatBytes(signDerLowR(hash, privateKey), Uint8Array.of(hashType));
  return withScriptSig(tx, index, concatBytes(pushData(sig), pushData(publicKey)));
}

/**
 * Signs input `index` spending `prevScript` with what the wallet holds: a P2PKH key (HD or
 * imported) or the keys it holds of a known P2SH multisig redeem script. The transaction comes back
 * unchanged when the wallet cannot sign that input.
 */
export function signOwnedInput(
  wallet: Wallet,
  tx: Tx,
  index: number,
  prevScript: Uint8Array,
  hashType: number = SIGHASH_ALL,
): Tx {
  const info = wallet.scriptInfo(prevScript);
  if (info === null) return tx;
  const type = classifyScript(prevScript).type;
  if (type === 'pubkeyhash' && info.publicKey !== undefined)
    return (
      wallet.withKeyOfPubkey(info.publicKey, (sk, pk) =>
        signP2PKHInput(tx, index, prevScript, sk, pk, hashType),
      ) ?? tx
    );
  const ms = type === 'scripthash' && info.redeemScript !== undefined ? multisigOf(info.redeemScript) : null;
  if (ms === null) return tx;
  const redeem = info.redeemScript!;
  const hash = signatureHash(redeem, tx, index, hashType);
  const sigs: Uint8Array[] = [];
  for (const pk of ms.pubkeys) {
    if (sigs.length === ms.m) break;
    const sig = wallet.withKeyOfPubkey(pk, (sk) =>
      concatBytes(signDerLowR(hash, sk), Uint8Array.of(hashType)),
    );
    if (sig !== undefined) sigs.push(sig);
  }
  // Too few keys: its share only, as Core's partial signature (for combinerawtransaction), and only
  // over an empty scriptSig so a co-signer's share already there is not replaced.
  if (sigs.length === 0 || (sigs.length < ms.m && tx.inputs[index].scriptSig.length > 0)) return tx;
  // OP_0 for CHECKMULTISIG's extra pop.
  return withScriptSig(
    tx,
    index,
    concatBytes(Uint8Array.of(OP.OP_0), ...sigs.map(pushData), pushData(redeem)),
  );
}

/** Signs every input of `tx`; coins[i] is the wallet coin input i spends. */
export function signTransaction(wallet: Wallet, tx: Tx, coins: Coin[]): Tx {
  wallet.requireUnlocked();
  let signed = tx;
  coins.forEach((c, i) => {
    signed = signOwnedInput(wallet, signed, i, c.script);
  });
  return signed;
}

/**
 * Signs every input of `tx` whose coin (prevScripts[i], undefined when unknown) the wallet can
 * sign for (signrawtransactionwithwallet); other inputs are left as they are. SIGHASH_SINGLE
 * inputs without a matching output are not signed, as Core. Throws when locked.
 */
export function signWalletInputs(
  wallet: Wallet,
  tx: Tx,
  prevScripts: readonly (Uint8Array | undefined)[],
  hashType: number,
): Tx {
  wallet.requireUnlocked();
  let signed = tx;
  const single = (hashType & 0x1f) === SIGHASH_SINGLE;
  tx.inputs.forEach((_, i) => {
    const script = prevScripts[i];
    if (script === undefined) return;
    if (single && i >= tx.outputs.length) return;
    signed = signOwnedInput(wallet, signed, i, script, hashType);
  });
  return signed;
}

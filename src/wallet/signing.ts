// Signing the wallet's P2PKH inputs: legacy signature hash (SIGHASH_ALL), RFC 6979 low-S DER
// signatures, scriptSig <sig+hashtype> <compressed pubkey>. Private keys stay inside
// Wallet.withPrivateKey and are zeroed after each input. Fails with WalletLockedError when locked.
import { signDer } from '../crypto/secp256k1.js';
import { concatBytes } from '../primitives/bytes.js';
import { Tx, TxIn } from '../primitives/tx.js';
import { SIGHASH_ALL, signatureHash } from '../script/sighash.js';
import { pushData } from '../script/standard.js';
import type { Coin, Wallet } from './wallet.js';

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
  const sig = concatBytes(signDer(hash, privateKey), Uint8Array.of(hashType));
  const scriptSig = concatBytes(pushData(sig), pushData(publicKey));
  const inputs = tx.inputs.map((i, n) => (n === index ? new TxIn(i.prevout, scriptSig, i.sequence) : i));
  return new Tx(tx.version, inputs, tx.outputs, tx.locktime);
}

/** Signs every input of `tx`; coins[i] is the wallet coin input i spends. */
export function signTransaction(wallet: Wallet, tx: Tx, coins: Coin[]): Tx {
  wallet.requireUnlocked();
  let signed = tx;
  coins.forEach((c, i) => {
    signed = wallet.withPrivateKey(c.branch, c.index, (sk, pk) =>
      signP2PKHInput(signed, i, c.script, sk, pk),
    );
  });
  return signed;
}

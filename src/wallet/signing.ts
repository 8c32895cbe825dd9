// Signing the wallet's P2PKH inputs: legacy signature hash (SIGHASH_ALL), RFC 6979 low-S DER
// signatures, scriptSig <sig+hashtype> <compressed pubkey>. Private keys stay inside
// Wallet.withPrivateKey and are zeroed after each input. Fails with WalletLockedError when locked.
import { signDer } from '../crypto/secp256k1.js';
import { hash160 } from '../crypto/hash.js';
import type { AddressPrefixes } from '../primitives/address.js';
import { scriptToAddress } from '../primitives/address.js';
import { concatBytes, equalBytes } from '../primitives/bytes.js';
import { Tx, TxIn } from '../primitives/tx.js';
import { SIGHASH_ALL, SIGHASH_SINGLE, signatureHash } from '../script/sighash.js';
import { classifyScript, pushData } from '../script/standard.js';
import { CHANGE, RECEIVE } from './keys.js';
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

/**
 * Signs every input of `tx` whose coin (prevScripts[i], undefined when unknown) is a P2PKH output
 * to one of the wallet's keys (signrawtransactionwithwallet); other inputs are left as they are.
 * SIGHASH_SINGLE inputs without a matching output are not signed, as Core. Throws when locked.
 */
export function signWalletInputs(
  wallet: Wallet,
  tx: Tx,
  prevScripts: readonly (Uint8Array | undefined)[],
  hashType: number,
  prefixes: AddressPrefixes,
): Tx {
  wallet.requireUnlocked();
  let signed = tx;
  const single = (hashType & 0x1f) === SIGHASH_SINGLE;
  tx.inputs.forEach((_, i) => {
    const script = prevScripts[i];
    if (script === undefined || classifyScript(script).type !== 'pubkeyhash') return;
    if (single && i >= tx.outputs.length) return;
    const address = scriptToAddress(script, prefixes);
    const info = address === null ? null : wallet.addressInfo(address);
    if (info === null) return;
    // The key's place in the HD tree: the last step of its path (m/44'/coin'/0'/branch/index).
    const index = Number(info.path.split('/').pop());
    if (!Number.isInteger(index)) return;
    signed = wallet.withPrivateKey(info.change ? CHANGE : RECEIVE, index, (sk, pk) =>
      equalBytes(hash160(pk), script.subarray(3, 23))
        ? signP2PKHInput(signed, i, script, sk, pk, hashType)
        : signed,
    );
  });
  return signed;
}

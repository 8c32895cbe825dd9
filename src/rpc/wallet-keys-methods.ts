// Key and message methods with Core's parameters, results and codes: signmessage,
// signmessagewithprivkey and verifymessage (wallet/message.ts: Bitcoin's format with Tally's
// magic), dumpprivkey (the WIF of one of the wallet's HD keys), createmultisig (a P2SH
// multisig address and its redeem script; no wallet needed), and the wallet's own settings:
// sethdseed (a new HD chain, the old keys kept), setwalletflag (avoid_reuse, the one mutable flag
// as in Core) and upgradewallet (Tally's wallet file versions).
import { hash160 } from '../crypto/hash.js';
import { isValidPubkey, randomPrivateKey } from '../crypto/secp256k1.js';
import {
  AddressError,
  addressToScript,
  decodeAddress,
  decodeWif,
  encodeAddress,
  encodeWif,
} from '../primitives/address.js';
import { bytesToHex, hexToBytes } from '../primitives/bytes.js';
import { multisigScript, p2shScript } from '../script/standard.js';
import { inferDescriptor } from './descriptor.js';
import { MessageError, signMessage, verifyMessage } from '../wallet/message.js';
import { WALLET_FILE_VERSION } from '../wallet/store.js';
import type { Wallet } from '../wallet/wallet.js';
import { RpcCode, RpcError } from './errors.js';
import type { AddressPrefixes } from '../primitives/address.js';
import type { RpcServer } from './server.js';
import { walletNameOf, walletRegistrar, type WalletRpcDeps } from './wallet-common.js';

/** Core's WALLET_FLAG_MAP names; only avoid_reuse may change (MUTABLE_WALLET_FLAGS). */
const WALLET_FLAGS = [
  'avoid_reuse',
  'blank',
  'key_origin_metadata',
  'last_hardened_xpub_cached',
  'disable_private_keys',
  'descriptor_wallet',
  'external_signer',
];

/** Core's MAX_SCRIPT_ELEMENT_SIZE: a redeem script is pushed whole. */
const MAX_REDEEM_SCRIPT = 520;

/** The public key of a P2PKH address whose private key the wallet holds: Core's -5/-3/-4 when none. */
function keyOfAddress(wallet: Wallet, address: string): Uint8Array {
  let kind: string;
  try {
    kind = decodeAddress(address, wallet.prefixes).kind;
  } catch {
    throw new RpcError(RpcCode.INVALID_ADDRESS_OR_KEY, 'Invalid address');
  }
  if (kind !== 'pubkeyhash') throw new RpcError(RpcCode.TYPE_ERROR, 'Address does not refer to key');
  const info = wallet.scriptInfo(addressToScript(address, wallet.prefixes));
  if (info?.publicKey === undefined || !wallet.holdsKey(info.publicKey))
    throw new RpcError(RpcCode.WALLET_ERROR, 'Private key not available');
  return info.publicKey;
}

/** Runs `fn` with the private key of `pubkey`, which the wallet holds. */
function withKey<T>(wallet: Wallet, pubkey: Uint8Array, fn: (sk: Uint8Array, pk: Uint8Array) => T): T {
  wallet.requireUnlocked();
  return wallet.withKeyOfPubkey(pubkey, fn) as T;
}

function verify(address: string, signature: string, message: string, prefixes: AddressPrefixes): boolean {
  try {
    return verifyMessage(address, signature, message, prefixes);
  } catch (e) {
    if (e instanceof AddressError) throw new RpcError(RpcCode.INVALID_ADDRESS_OR_KEY, 'Invalid address');
    if (e instanceof MessageError) throw new RpcError(RpcCode.TYPE_ERROR, e.message);
    throw e;
  }
}

export function registerWalletKeyMethods(server: RpcServer, deps: WalletRpcDeps): void {
  const reg = walletRegistrar(server, deps.wallets);
  const prefixes = deps.prefixes;

  reg(
    'signmessage',
    ['address', 'message'],
    'Signs a message with the key of one of the wallet\'s addresses ("Tally Signed Message:\\n" magic). Returns base64.',
    (r, _c, w) => {
      const wallet = w();
      const pubkey = keyOfAddress(wallet, r.string(0));
      const message = r.string(1);
      return withKey(wallet, pubkey, (sk, pk) => signMessage(sk, message, pk.length === 33));
    },
  );

  reg(
    'dumpprivkey',
    ['address'],
    "The private key (WIF) of one of the wallet's addresses. Anyone holding it can spend what the address holds.",
    (r, _c, w) => {
      const wallet = w();
      const address = r.string(0);
      let key: Uint8Array;
      try {
        key = keyOfAddress(wallet, address);
      } catch (e) {
        if (e instanceof RpcError && e.code === RpcCode.WALLET_ERROR)
          throw new RpcError(RpcCode.WALLET_ERROR, `Private key for address ${address} is not known`);
        if (e instanceof RpcError && e.code === RpcCode.INVALID_ADDRESS_OR_KEY)
          throw new RpcError(RpcCode.INVALID_ADDRESS_OR_KEY, 'Invalid Tally address');
        throw e;
      }
      return withKey(wallet, key, (sk, pk) => encodeWif(sk, pk.length === 33, wallet.prefixes));
    },
  );

  // The methods that need no wallet, only the network's address prefixes.
  if (prefixes === undefined) return;
  reg(
    'signmessagewithprivkey',
    ['privkey', 'message'],
    'Signs a message with a WIF private key. Returns base64.',
    (r) => {
      let key: { privateKey: Uint8Array; compressed: boolean };
      try {
        key = decodeWif(r.string(0), prefixes);
      } catch {
        throw new RpcError(RpcCode.INVALID_ADDRESS_OR_KEY, 'Invalid private key');
      }
      try {
        return signMessage(key.privateKey, r.string(1), key.compressed);
      } finally {
        key.privateKey.fill(0);
      }
    },
  );

  reg(
    'verifymessage',
    ['address', 'signature', 'message'],
    'Whether a base64 signature signs the message with the key of a P2PKH address.',
    (r) => verify(r.string(0), r.string(1), r.string(2), prefixes),
  );

  reg(
    'createmultisig',
    ['nrequired', 'keys', 'address_type'],
    'A P2SH address needing nrequired of the public keys (hex) to spend: {address, redeemScript, descriptor}.',
    (r) => {
      const m = r.int(0);
      const keys = r.array(1);
      addressType(r.optString(2));
      checkKeyCount(m, keys.length);
      const ms = multisig(m, keys.map(hexPubkey), prefixes);
      return { address: ms.address, redeemScript: bytesToHex(ms.redeem), descriptor: ms.descriptor };
    },
  );

  reg(
    'addmultisigaddress',
    ['nrequired', 'keys', 'label', 'address_type'],
    'Adds to the wallet a P2SH address needing nrequired of the keys (hex public keys, or addresses of ' +
      'the wallet) to spend: the wallet watches it and signs its share. Result: {address, redeemScript, descriptor}.',
    (r, _c, w) => {
      const wallet = w();
      const m = r.int(0);
      const keys = r.array(1);
      const label = r.optString(2);
      if (label === '*') throw new RpcError(RpcCode.WALLET_INVALID_LABEL_NAME, 'Invalid label name');
      addressType(r.optString(3));
      checkKeyCount(m, keys.length);
      const pubkeys = keys.map((k) =>
        typeof k === 'string' && /^([0-9a-fA-F]{66}|[0-9a-fA-F]{130})$/.test(k)
          ? hexPubkey(k)
          : walletPubkey(wallet, k),
      );
      const ms = multisig(m, pubkeys, wallet.prefixes);
      wallet.importScript(null, ms.redeem, label ?? '');
      return { address: ms.address, redeemScript: bytesToHex(ms.redeem), descriptor: ms.descriptor };
    },
  );
  reg(
    'sethdseed',
    ['newkeypool', 'seed'],
    'Replaces the HD seed: new addresses come from a chain of `seed` (a WIF private key whose 32 bytes ' +
      'are the BIP32 seed, as Core) or of a random one. Every key of the old chain stays in the wallet ' +
      "(its coins remain spendable). After it the wallet's mnemonic restores only the keys made before: " +
      "back up the wallet (backupwallet) to keep the new seed. With newkeypool false the old chain's " +
      'keys not handed out yet are handed out first (Core keeps the old keypool). Result: null.',
    (r, _c, w) => {
      const wallet = w();
      wallet.requireUnlocked();
      const newKeypool = r.optBool(0, true);
      let seed: Uint8Array;
      if (r.has(1)) {
        try {
          seed = decodeWif(r.string(1).trim(), wallet.prefixes).privateKey;
        } catch {
          throw new RpcError(RpcCode.INVALID_ADDRESS_OR_KEY, 'Invalid private key');
        }
      } else seed = randomPrivateKey();
      try {
        if (!wallet.setHdSeed(seed, !newKeypool))
          throw new RpcError(
            RpcCode.INVALID_ADDRESS_OR_KEY,
            'Already have this key (either as an HD seed or as a loose private key)',
          );
      } finally {
        seed.fill(0);
      }
      return null;
    },
  );

  reg(
    'setwalletflag',
    ['flag', 'value'],
    'Changes a wallet flag; avoid_reuse is the one that may change (sends then leave out coins of ' +
      'addresses already spent from; getbalances shows them as used). Result: {flag_name, flag_state}.',
    (r, _c, w) => {
      const wallet = w();
      const flag = r.string(0);
      const value = r.optBool(1, true);
      if (!WALLET_FLAGS.includes(flag))
        throw new RpcError(RpcCode.INVALID_PARAMETER, `Unknown wallet flag: ${flag}`);
      if (flag !== 'avoid_reuse')
        throw new RpcError(RpcCode.INVALID_PARAMETER, `Wallet flag is immutable: ${flag}`);
      if (wallet.avoidReuse === value)
        throw new RpcError(RpcCode.INVALID_PARAMETER, `Wallet flag is already set to ${value}: ${flag}`);
      wallet.setAvoidReuse(value);
      // Core warns that a rescan is needed to mark past spends; Tally reads them from the wallet's
      // transactions, so there is no caveat to print.
      return { flag_name: flag, flag_state: value };
    },
  );

  reg(
    'upgradewallet',
    ['version'],
    `Writes the wallet file in the current format (Tally's wallet file version ${WALLET_FILE_VERSION}). ` +
      'An older file is read as the current version and written so at its first change (loading ' +
      'usually is one): previous_version is the version it had when loaded. Result: {wallet_name, ' +
      'previous_version, current_version, result} or {…, error}.',
    (r, ctx, w) => {
      const wallet = w();
      wallet.requireUnlocked();
      const asked = r.optInt(0, 0, 0);
      const previous = wallet.loadedVersion;
      const head = { wallet_name: walletNameOf(deps.wallets, ctx, wallet), previous_version: previous };
      let error: string | undefined;
      if (asked !== 0 && asked < previous)
        error = `Cannot downgrade wallet from version ${previous} to version ${asked}. Wallet version unchanged.`;
      else if (asked !== 0 && asked < WALLET_FILE_VERSION && asked !== previous)
        error = `Tally writes wallet files of version ${WALLET_FILE_VERSION} only: ask for version ${WALLET_FILE_VERSION} or give no version. Wallet version unchanged.`;
      if (error !== undefined) return { ...head, current_version: previous, error };
      if (asked === 0 || asked >= WALLET_FILE_VERSION) wallet.upgradeFile();
      const current = wallet.loadedVersion;
      return {
        ...head,
        current_version: current,
        result:
          current === previous
            ? 'Already at latest version. Wallet version unchanged.'
            : `Wallet upgraded successfully from version ${previous} to version ${current}.`,
      };
    },
  );
}

function addressType(type: string | undefined): void {
  if (type !== undefined && type !== 'legacy')
    throw new RpcError(RpcCode.INVALID_ADDRESS_OR_KEY, `Unknown address type '${type}'`);
}

/** Core's CreateMultisigRedeemscript count checks (-8). */
function checkKeyCount(m: number, n: number): void {
  if (m < 1)
    throw new RpcError(
      RpcCode.INVALID_PARAMETER,
      'a multisignature address must require at least one key to redeem',
    );
  if (n < m)
    throw new RpcError(
      RpcCode.INVALID_PARAMETER,
      `not enough keys supplied (got ${n} keys, but need at least ${m} to redeem)`,
    );
  if (n > 16)
    throw new RpcError(
      RpcCode.INVALID_PARAMETER,
      'Number of keys involved in the multisignature address creation > 16',
    );
}

/** Core's HexToPubKey (-5). */
function hexPubkey(k: unknown): Uint8Array {
  const bytes = typeof k === 'string' && /^([0-9a-fA-F]{2})+$/.test(k) ? hexToBytes(k) : null;
  if (bytes === null || !isValidPubkey(bytes))
    throw new RpcError(RpcCode.INVALID_ADDRESS_OR_KEY, `Invalid public key: ${String(k)}`);
  return bytes;
}

/** Core's AddrToPubKey: the full public key of a wallet P2PKH address (-5). */
function walletPubkey(wallet: Wallet, k: unknown): Uint8Array {
  const address = typeof k === 'string' ? k : JSON.stringify(k);
  let script: Uint8Array;
  try {
    script = addressToScript(address, wallet.prefixes);
  } catch {
    throw new RpcError(RpcCode.INVALID_ADDRESS_OR_KEY, `Invalid address: ${address}`);
  }
  if (decodeAddress(address, wallet.prefixes).kind !== 'pubkeyhash')
    throw new RpcError(RpcCode.INVALID_ADDRESS_OR_KEY, `'${address}' does not refer to a key`);
  const pub = wallet.scriptInfo(script)?.publicKey;
  if (pub === undefined)
    throw new RpcError(RpcCode.INVALID_ADDRESS_OR_KEY, `no full public key for address ${address}`);
  return pub;
}

/** The P2SH multisig of the keys: its address, redeem script and Core's inferred descriptor sh(multi(…)). */
function multisig(
  m: number,
  pubkeys: Uint8Array[],
  prefixes: AddressPrefixes,
): { address: string; redeem: Uint8Array; descriptor: string } {
  const redeem = multisigScript(m, pubkeys);
  if (redeem.length > MAX_REDEEM_SCRIPT)
    throw new RpcError(
      RpcCode.INVALID_PARAMETER,
      `redeemScript exceeds size limit: ${redeem.length} > ${MAX_REDEEM_SCRIPT}`,
    );
  const h = hash160(redeem);
  const known = { keys: new Map(), redeemScripts: new Map([[bytesToHex(h), redeem]]) };
  return {
    address: encodeAddress('scripthash', h, prefixes),
    redeem,
    descriptor: inferDescriptor(p2shScript(h), prefixes, known),
  };
}

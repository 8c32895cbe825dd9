// Importing keys and scripts beside the HD chain, with Core v29's legacy-wallet parameters,
// results and codes: importprivkey, importpubkey, importaddress (an address, or a hex script with
// the p2sh flag), importmulti (per request {success, warnings, error}), dumpwallet/importwallet
// (Core's text format, wallet/dump.ts) and restorewallet (a backupwallet file), each import followed by a
// rescan of the active chain (from genesis for the first three, as Core's legacy wallet; from the
// earliest timestamp less Core's 2-hour TIMESTAMP_WINDOW for importmulti); importprunedfunds (a
// transaction with its gettxoutproof, checked against the block index, no rescan) and
// removeprunedfunds.
import { isValidPubkey } from '../crypto/secp256k1.js';
import { AddressError, addressToScript, decodeWif } from '../primitives/address.js';
import { DecodeError, equalBytes, hexToBytes } from '../primitives/bytes.js';
import { MerkleBlock } from '../primitives/merkle-block.js';
import { classifyScript } from '../script/standard.js';
import { multisigOf, p2shOf } from '../wallet/imported.js';
import {
  DumpError,
  type DumpContents,
  earliestTime,
  formatDump,
  readDump,
  writeDump,
} from '../wallet/dump.js';
import { WalletBackupError, WalletExistsError } from '../wallet/manager.js';
import type { Wallet } from '../wallet/wallet.js';
import { hashParam } from './chain-json.js';
import { RpcCode, RpcError } from './errors.js';
import { decodeTx, hexParam } from './rawtx-methods.js';
import type { ParamReader } from './params.js';
import type { RpcServer } from './server.js';
import {
  rescanWallet,
  startupSetting,
  walletRegistrar,
  walletRpcError,
  type WalletRpcDeps,
} from './wallet-common.js';

/** Core's TIMESTAMP_WINDOW: a key's birth time is trusted to within 2 hours. */
export const TIMESTAMP_WINDOW = 2 * 60 * 60;
/** Core's cap on importmulti requests is none; Tally bounds one call to this many. */
export const MAX_IMPORTMULTI_REQUESTS = 10_000;

const HEX = /^([0-9a-fA-F]{2})+$/;

function labelOf(r: ParamReader, i: number): string {
  return r.optString(i) ?? '';
}

function privateKeyParam(wallet: Wallet, wif: string): { privateKey: Uint8Array; compressed: boolean } {
  try {
    return decodeWif(wif.trim(), wallet.prefixes);
  } catch {
    throw new RpcError(RpcCode.INVALID_ADDRESS_OR_KEY, 'Invalid private key encoding');
  }
}

function pubkeyParam(hex: unknown): Uint8Array {
  if (typeof hex !== 'string' || !HEX.test(hex))
    throw new RpcError(RpcCode.INVALID_ADDRESS_OR_KEY, 'Pubkey must be a hex string');
  const pub = hexToBytes(hex.toLowerCase());
  if (!isValidPubkey(pub))
    throw new RpcError(RpcCode.INVALID_ADDRESS_OR_KEY, 'Pubkey is not a valid public key');
  return pub;
}

/** The height of the first block of the active chain at most TIMESTAMP_WINDOW older than `time`. */
export function heightForTime(deps: WalletRpcDeps, time: number): number {
  const chain = deps.chain;
  if (chain === undefined) return 0;
  let lo = 0;
  let hi = chain.height;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((chain.getEntryAtHeight(mid)?.time ?? 0) < time - TIMESTAMP_WINDOW) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

interface ImportRequest {
  script: Uint8Array | null;
  address: string | null;
  redeem?: Uint8Array;
  pubkeys: Uint8Array[];
  keys: { privateKey: Uint8Array; compressed: boolean }[];
  label?: string;
  time: number;
  warnings: string[];
}

/** Checks one importmulti request as Core's ProcessImportLegacy does, before anything is imported. */
function parseRequest(wallet: Wallet, req: unknown, now: number): ImportRequest {
  if (req === null || typeof req !== 'object' || Array.isArray(req))
    throw new RpcError(RpcCode.TYPE_ERROR, 'Expected object');
  const o = req as Record<string, unknown>;
  if (o.desc !== undefined)
    throw new RpcError(
      RpcCode.INVALID_PARAMETER,
      'Descriptors are not supported by this wallet: use scriptPubKey',
    );
  if (o.scriptPubKey === undefined)
    throw new RpcError(RpcCode.INVALID_PARAMETER, 'Either a descriptor or scriptPubKey must be provided.');
  let time: number;
  if (o.timestamp === 'now') time = now;
  else if (typeof o.timestamp === 'number' && Number.isSafeInteger(o.timestamp)) time = o.timestamp;
  else if (o.timestamp === undefined)
    throw new RpcError(RpcCode.TYPE_ERROR, 'Missing required timestamp field for key');
  else
    throw new RpcError(
      RpcCode.TYPE_ERROR,
      `Expected number or "now" timestamp value for key. got type ${typeof o.timestamp}`,
    );
  const internal = o.internal === true;
  const watchonly = o.watchonly === true;
  if (internal && o.label !== undefined)
    throw new RpcError(RpcCode.INVALID_PARAMETER, 'Internal addresses should not have a label');
  if (o.witnessscript !== undefined)
    throw new RpcError(RpcCode.INVALID_PARAMETER, 'Witness scripts are not supported: Tally has no segwit');
  let script: Uint8Array;
  let address: string | null = null;
  const spk = o.scriptPubKey;
  if (typeof spk === 'string') {
    if (!HEX.test(spk)) throw new RpcError(RpcCode.INVALID_ADDRESS_OR_KEY, `Invalid scriptPubKey "${spk}"`);
    script = hexToBytes(spk.toLowerCase());
  } else if (
    spk !== null &&
    typeof spk === 'object' &&
    typeof (spk as { address?: unknown }).address === 'string'
  ) {
    address = (spk as { address: string }).address;
    try {
      script = addressToScript(address, wallet.prefixes);
    } catch {
      throw new RpcError(RpcCode.INVALID_ADDRESS_OR_KEY, `Invalid address "${address}"`);
    }
  } else throw new RpcError(RpcCode.TYPE_ERROR, 'scriptPubKey must be a hex string or {"address": ...}');
  let redeem: Uint8Array | undefined;
  if (o.redeemscript !== undefined) {
    if (typeof o.redeemscript !== 'string' || !HEX.test(o.redeemscript))
      throw new RpcError(RpcCode.INVALID_ADDRESS_OR_KEY, 'Invalid redeem script: must be hex string');
    redeem = hexToBytes(o.redeemscript.toLowerCase());
    if (classifyScript(script).type !== 'scripthash' || !equalHex(p2shOf(redeem), script))
      throw new RpcError(RpcCode.INVALID_ADDRESS_OR_KEY, 'Redeem script does not match the scriptPubKey');
  }
  const pubkeys = arrayOf(o.pubkeys, 'pubkeys').map(pubkeyParam);
  const keys = arrayOf(o.keys, 'keys').map((k) => {
    if (typeof k !== 'string') throw new RpcError(RpcCode.TYPE_ERROR, 'keys must be strings');
    return privateKeyParam(wallet, k);
  });
  if (watchonly && keys.length > 0)
    throw new RpcError(RpcCode.INVALID_PARAMETER, 'Watch-only addresses should not include private keys');
  const warnings: string[] = [];
  const type = classifyScript(script).type;
  const solvable =
    keys.length > 0 ||
    pubkeys.length > 0 ||
    (redeem !== undefined && multisigOf(redeem) !== null) ||
    type === 'multisig' ||
    type === 'pubkey' ||
    wallet.scriptInfo(script)?.solvable === true;
  if (!solvable && !watchonly)
    warnings.push(
      'Importing as non-solvable: some required keys or scripts are missing. This may happen when using watchonly=false with a script that cannot be spent.',
    );
  if (keys.length === 0 && !watchonly && wallet.scriptInfo(script)?.spendable !== true && solvable)
    warnings.push(
      'Some private keys are missing, outputs will be considered watchonly. If this is intentional, specify the watchonly flag.',
    );
  return {
    script,
    address,
    redeem,
    pubkeys,
    keys,
    label: internal ? undefined : typeof o.label === 'string' ? o.label : undefined,
    time,
    warnings,
  };
}

function equalHex(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function arrayOf(v: unknown, name: string): unknown[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw new RpcError(RpcCode.TYPE_ERROR, `${name} must be an array`);
  return v;
}

function applyRequest(wallet: Wallet, q: ImportRequest): void {
  for (const k of q.keys) {
    try {
      wallet.importPrivateKey(k.privateKey, k.compressed, undefined, q.time);
    } finally {
      k.privateKey.fill(0);
    }
  }
  for (const p of q.pubkeys) wallet.importPublicKey(p, undefined, q.time);
  wallet.importScript(q.redeem !== undefined ? null : q.script, q.redeem, q.label, q.time);
}

/** Imports what a dump holds; returns the earliest time in it. */
function importDump(wallet: Wallet, d: DumpContents): number {
  for (const k of d.keys) {
    try {
      wallet.importPrivateKey(k.privateKey, k.compressed, k.label, k.time);
    } finally {
      k.privateKey.fill(0);
    }
  }
  for (const p of d.pubkeys) wallet.importPublicKey(p.publicKey, p.label, p.time);
  for (const s of d.redeemScripts) wallet.importScript(null, s.script, undefined, s.time);
  for (const s of d.watched) wallet.importScript(s.script, undefined, s.label, s.time);
  return earliestTime(d);
}

export function registerWalletImportMethods(server: RpcServer, deps: WalletRpcDeps): void {
  const reg = walletRegistrar(server, deps.wallets);
  const nowSeconds = () => Math.floor(Date.now() / 1000);

  /** The rescan an import asks for; the import itself is kept when the rescan is refused. */
  const rescanAfter = async (wallet: Wallet, rescan: boolean, fromHeight: number) => {
    if (rescan) await rescanWallet(deps, wallet, fromHeight);
  };

  reg(
    'importprivkey',
    ['privkey', 'label', 'rescan'],
    'Adds a private key (WIF) beside the HD chain and rescans the chain for its coins (rescan=true).',
    async (r, _c, w) => {
      const wallet = w();
      const key = privateKeyParam(wallet, r.string(0));
      try {
        wallet.importPrivateKey(key.privateKey, key.compressed, labelOf(r, 1));
      } finally {
        key.privateKey.fill(0);
      }
      await rescanAfter(wallet, r.optBool(2, true), 0);
      return null;
    },
  );

  reg(
    'importpubkey',
    ['pubkey', 'label', 'rescan'],
    'Watches the P2PKH address of a public key (hex) and rescans the chain for it (rescan=true).',
    async (r, _c, w) => {
      const wallet = w();
      wallet.importPublicKey(pubkeyParam(r.string(0)), labelOf(r, 1));
      await rescanAfter(wallet, r.optBool(2, true), 0);
      return null;
    },
  );

  reg(
    'importaddress',
    ['address', 'label', 'rescan', 'p2sh'],
    'Watches an address or a hex output script (p2sh=true: the script is a redeem script and its P2SH ' +
      'address is watched too) and rescans the chain for it (rescan=true).',
    async (r, _c, w) => {
      const wallet = w();
      const target = r.string(0);
      const p2sh = r.optBool(3, false);
      let script: Uint8Array | null = null;
      try {
        script = addressToScript(target, wallet.prefixes);
      } catch (e) {
        if (!(e instanceof AddressError)) throw e;
      }
      if (script !== null) {
        if (p2sh)
          throw new RpcError(
            RpcCode.INVALID_ADDRESS_OR_KEY,
            'Cannot use the p2sh flag with an address - use a script instead',
          );
        wallet.importScript(script, undefined, labelOf(r, 1));
      } else if (HEX.test(target)) {
        const bytes = hexToBytes(target.toLowerCase());
        wallet.importScript(bytes, p2sh ? bytes : undefined, labelOf(r, 1));
      } else throw new RpcError(RpcCode.INVALID_ADDRESS_OR_KEY, 'Invalid Tally address or script');
      await rescanAfter(wallet, r.optBool(2, true), 0);
      return null;
    },
  );

  reg(
    'dumpwallet',
    ['filename'],
    "Writes every private key of the wallet to a new file in Core's dumpwallet text format (the HD " +
      'master key, then one line per key with its time, label or key-pool flag, address and HD path). ' +
      'Anyone holding the file can spend the coins. Result: {filename}.',
    (r, _c, w) => {
      const wallet = w();
      const path = r.string(0);
      wallet.requireUnlocked();
      const tipEntry = deps.chain?.tip;
      const text = formatDump(wallet, {
        now: nowSeconds(),
        tip:
          tipEntry === undefined
            ? null
            : { height: tipEntry.height, hash: tipEntry.hashHex, time: tipEntry.time },
      });
      try {
        return { filename: writeDump(path, text) };
      } catch (e) {
        if (e instanceof DumpError) throw new RpcError(RpcCode.INVALID_PARAMETER, e.message);
        throw e;
      }
    },
  );

  reg(
    'importwallet',
    ['filename'],
    "Imports the keys, labels and scripts of a dumpwallet file, then rescans from the earliest key's time.",
    async (r, _c, w) => {
      const wallet = w();
      wallet.requireUnlocked();
      let dump: DumpContents;
      try {
        dump = readDump(r.string(0), wallet.prefixes);
      } catch (e) {
        if (e instanceof DumpError) throw new RpcError(RpcCode.INVALID_PARAMETER, e.message);
        throw e;
      }
      const earliest = importDump(wallet, dump);
      await rescanWallet(deps, wallet, heightForTime(deps, earliest));
      return null;
    },
  );

  reg(
    'restorewallet',
    ['wallet_name', 'backup_file', 'load_on_startup'],
    'Makes a backupwallet file a new wallet wallet_name and loads it (it is rescanned from its tip). Result: {name}.',
    async (r) => {
      const name = r.string(0);
      try {
        await deps.wallets.restore(name, r.string(1));
      } catch (e) {
        if (e instanceof WalletExistsError) throw new RpcError(RpcCode.WALLET_ALREADY_EXISTS, e.message);
        if (e instanceof WalletBackupError) throw new RpcError(RpcCode.INVALID_PARAMETER, e.message);
        throw e;
      }
      return { name, ...startupSetting(deps.wallets)(r, 2, name) };
    },
  );

  reg(
    'importprunedfunds',
    ['rawtransaction', 'txoutproof'],
    'Adds a transaction paying the wallet without a rescan, given its gettxoutproof proof of a block ' +
      "of the active chain up to the wallet's last block (for pruned nodes). Result: null.",
    (r, _c, w) => {
      const wallet = w();
      const tx = decodeTx(r.string(0), 'TX decode failed. Make sure the tx has at least one input.');
      let proof: MerkleBlock;
      try {
        proof = MerkleBlock.decode(hexParam(r.string(1), 'proof'));
      } catch (e) {
        if (e instanceof DecodeError) throw new RpcError(RpcCode.MISC_ERROR, `Invalid proof: ${e.message}`);
        throw e;
      }
      const matches = proof.verify();
      if (matches === null)
        throw new RpcError(RpcCode.INVALID_ADDRESS_OR_KEY, 'Something wrong with merkleblock');
      // Core's findAncestorByHash(last processed block, proof's block).
      const entry = deps.chain?.getEntry(proof.header.hash());
      const tip = wallet.tip;
      if (
        entry === undefined ||
        tip === null ||
        !deps.chain!.isOnActiveChain(entry) ||
        entry.height > tip.height ||
        deps.chain!.getEntryAtHeight(tip.height)?.hashHex !== tip.hash
      )
        throw new RpcError(RpcCode.INVALID_ADDRESS_OR_KEY, 'Block not found in chain');
      const txid = tx.txid();
      const match = matches.find((m) => equalBytes(m.txid, txid));
      if (match === undefined)
        throw new RpcError(RpcCode.INVALID_ADDRESS_OR_KEY, "Transaction given doesn't exist in proof");
      if (!wallet.addProvenTransaction(tx, entry.height, entry.hashHex, entry.time, match.index))
        throw new RpcError(
          RpcCode.INVALID_ADDRESS_OR_KEY,
          'No addresses in transaction correspond to your wallet',
        );
      return null;
    },
  );

  reg(
    'removeprunedfunds',
    ['txid'],
    'Deletes a transaction from the wallet (the companion of importprunedfunds); balances change. Result: null.',
    (r, _c, w) => {
      const wallet = w();
      const txid = hashParam(r, 0, 'txid');
      if (!wallet.removeTransaction(txid))
        throw new RpcError(RpcCode.WALLET_ERROR, `Transaction ${txid} does not belong to this wallet`);
      return null;
    },
  );

  reg(
    'importmulti',
    ['requests', 'options'],
    'Imports scripts, addresses, public and private keys in one call, then rescans once from the earliest ' +
      'timestamp (options.rescan=true). Result: per request {success, warnings, error}.',
    async (r, _c, w) => {
      const wallet = w();
      const requests = r.array(0);
      if (requests.length > MAX_IMPORTMULTI_REQUESTS)
        throw r.invalid(0, `at most ${MAX_IMPORTMULTI_REQUESTS} requests per call`);
      const options = r.has(1) ? r.object(1) : {};
      const rescan = options.rescan === undefined ? true : options.rescan === true;
      // Core's importmulti wants the wallet unlocked whatever the requests hold.
      wallet.requireUnlocked();
      const now = nowSeconds();
      let earliest = Number.POSITIVE_INFINITY;
      const results = requests.map((req) => {
        try {
          const q = parseRequest(wallet, req, now);
          applyRequest(wallet, q);
          earliest = Math.min(earliest, q.time);
          return { success: true, warnings: q.warnings.length > 0 ? q.warnings : undefined };
        } catch (e) {
          const err = walletRpcError(e);
          if (!(err instanceof RpcError)) throw e;
          return { success: false, error: { code: err.code, message: err.message } };
        }
      });
      if (Number.isFinite(earliest)) await rescanAfter(wallet, rescan, heightForTime(deps, earliest));
      return results;
    },
  );
}

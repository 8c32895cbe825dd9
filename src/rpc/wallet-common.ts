// What the wallet RPC files share: their dependencies, the per-request wallet choice
// (/wallet/<name> in the URL, else the only loaded wallet), wallet exceptions mapped onto Core's
// RPC codes, and fee-rate parameters.
import { getParams } from '../consensus/params.js';
import { AddressError, type AddressPrefixes } from '../primitives/address.js';
import type { OutPoint, Tx, TxOut } from '../primitives/tx.js';
import { BumpError } from '../wallet/bump.js';
import { InsufficientFundsError, SelectionWeightError } from '../wallet/coinselect.js';
import {
  createTransaction,
  FeeDeductionError,
  type FundedTransaction,
  type PaymentOutput,
} from '../wallet/fund.js';
import { MnemonicError } from '../wallet/keys.js';
import { WrongPassphraseError } from '../wallet/keystore.js';
import {
  WalletAlreadyLoadedError,
  WalletExistsError,
  WalletNotFoundError,
  WalletNotSpecifiedError,
} from '../wallet/manager.js';
import { WalletFileError } from '../wallet/store.js';
import { type HistoryEntry, Wallet, WalletError, WalletLockedError } from '../wallet/wallet.js';
import { hash160 } from '../crypto/hash.js';
import { bytesToHex } from '../primitives/bytes.js';
import { multisigOf } from '../wallet/imported.js';
import { JsonAmount } from './amount.js';
import { inferDescriptor, type SigningInfo } from './descriptor.js';
import { RpcCode, RpcError } from './errors.js';
import { methodRegistrar, ParamReader } from './params.js';
import type { ChainPort, WalletsPort } from './ports.js';
import type { RpcContext, RpcServer } from './server.js';

export interface WalletRpcDeps {
  wallets: WalletsPort;
  /** Submits a transaction to the mempool and relays it; throws RpcError when rejected. */
  broadcast: (tx: Tx) => Promise<void>;
  /** Fee rate when the caller gives none, base units per 1000 bytes. */
  defaultFeeRatePerKb: bigint;
  /**
   * The node's fee estimate for a confirmation target (estimatesmartfee), base units per 1000
   * bytes, or null while it has too little data; sends without fee_rate use it, else the default.
   */
  estimateFeeRatePerKb?: (confTarget: number) => bigint | null;
  /** Display txid of the pool transaction spending an outpoint (gettransaction's mempoolconflicts). */
  mempoolSpender?: (outpoint: OutPoint) => string | undefined;
  /** The output at an outpoint of a pool transaction (fundrawtransaction's external inputs). */
  mempoolOutput?: (outpoint: OutPoint) => TxOut | undefined;
  /** The most fee a wallet transaction may pay (Core's -maxtxfee), base units; default 0.1 coin. */
  maxTxFee?: bigint;
  /** The pool's minimum relay fee rate (-minrelaytxfee), per 1,000 bytes; default 1,000. */
  minRelayFeeRatePerKb?: bigint;
  /** The pool's incremental relay fee rate (BIP125 rule 4), per 1,000 bytes; default 1,000. */
  incrementalFeeRatePerKb?: bigint;
  /** The network's address prefixes (signmessagewithprivkey, verifymessage, createmultisig). */
  prefixes?: AddressPrefixes;
  /** The chain, for listsinceblock and rescanblockchain. */
  chain?: ChainPort;
  /** Whether the pool holds the transaction (display txid) with a descendant. */
  hasPoolDescendants?: (txid: string) => boolean;
}

/** A running rescan of one RPC server's wallets (rescanblockchain, or an import's). */
export interface RescanState {
  wallet: Wallet;
  abort: boolean;
  start: number;
  height: number;
  stop: number;
  /** When it began, ms since the epoch. */
  began: number;
}
const rescans = new WeakMap<WalletRpcDeps, { current: RescanState | null }>();

/** The rescan running for these wallet methods, if any (abortrescan stops it). */
export function runningRescan(deps: WalletRpcDeps): RescanState | null {
  return rescans.get(deps)?.current ?? null;
}

/**
 * getwalletinfo's scanning, as Core: false, or {duration (whole seconds), progress (0 to 1, the
 * share of the heights read)} while a rescan of this wallet runs.
 */
export function scanningInfo(
  deps: WalletRpcDeps,
  wallet: Wallet,
  now = Date.now(),
): false | { duration: number; progress: number } {
  const r = runningRescan(deps);
  if (r === null || r.wallet !== wallet) return false;
  return {
    duration: Math.floor((now - r.began) / 1000),
    progress: (r.height - r.start) / (r.stop - r.start + 1),
  };
}

/**
 * Reads the active chain from `start` to `stop` (default the tip) for the wallet's transactions,
 * one rescan at a time (Core's -4 otherwise); a block reorged away during the read is read again.
 * Returns the last height read; -1 (Core's "Rescan aborted by user.") when aborted.
 */
export async function rescanWallet(
  deps: WalletRpcDeps,
  wallet: Wallet,
  start: number,
  stop?: number,
): Promise<number> {
  const chain = deps.chain;
  if (chain === undefined) throw new RpcError(RpcCode.MISC_ERROR, 'rescanning needs the chain');
  let slot = rescans.get(deps);
  if (slot === undefined) rescans.set(deps, (slot = { current: null }));
  if (slot.current !== null)
    throw new RpcError(
      RpcCode.WALLET_ERROR,
      'Wallet is currently rescanning. Abort existing rescan or wait.',
    );
  const state: RescanState = {
    wallet,
    began: Date.now(),
    abort: false,
    start,
    height: start,
    stop: Math.min(stop ?? chain.height, chain.height),
  };
  slot.current = state;
  try {
    for (let h = start; h <= state.stop && !state.abort; h++) {
      state.height = h;
      const entry = chain.getEntryAtHeight(h);
      if (entry === undefined) break;
      const block = await chain.getBlock(entry.hash);
      // A reorg during the read: the block is no longer the active one at h; read h again.
      if (block === undefined || chain.getEntryAtHeight(h)?.hashHex !== entry.hashHex) {
        if (chain.getEntryAtHeight(h) !== undefined) h--;
        continue;
      }
      wallet.scanBlock(block, h);
    }
    if (state.abort) throw new RpcError(RpcCode.MISC_ERROR, 'Rescan aborted by user.');
    return state.height;
  } finally {
    slot.current = null;
  }
}

/** Wallet exceptions -> Core's RPC codes. */
export function walletRpcError(e: unknown): unknown {
  if (e instanceof RpcError) return e;
  if (e instanceof WalletLockedError) return new RpcError(RpcCode.WALLET_UNLOCK_NEEDED, e.message);
  if (e instanceof WrongPassphraseError)
    return new RpcError(
      RpcCode.WALLET_PASSPHRASE_INCORRECT,
      'Error: The wallet passphrase entered was incorrect.',
    );
  if (e instanceof FeeDeductionError) return new RpcError(RpcCode.WALLET_INSUFFICIENT_FUNDS, e.message);
  if (e instanceof InsufficientFundsError)
    return new RpcError(RpcCode.WALLET_INSUFFICIENT_FUNDS, 'Insufficient funds');
  if (e instanceof SelectionWeightError) return new RpcError(RpcCode.WALLET_INSUFFICIENT_FUNDS, e.message);
  if (e instanceof AddressError) {
    const other = e.foreignVersion === undefined ? undefined : networkOfVersion(e.foreignVersion);
    return new RpcError(
      RpcCode.INVALID_ADDRESS_OR_KEY,
      other === undefined
        ? `Invalid Tally address: ${e.message}`
        : `Invalid Tally address: it is an address of ${other}`,
    );
  }
  if (e instanceof WalletNotFoundError) return new RpcError(RpcCode.WALLET_NOT_FOUND, e.message);
  if (e instanceof WalletNotSpecifiedError) return new RpcError(RpcCode.WALLET_NOT_SPECIFIED, e.message);
  if (e instanceof WalletAlreadyLoadedError) return new RpcError(RpcCode.WALLET_ALREADY_LOADED, e.message);
  if (e instanceof WalletExistsError) return new RpcError(RpcCode.WALLET_ERROR, e.message);
  if (e instanceof BumpError)
    return new RpcError(
      e.kind === 'invalid-parameter'
        ? RpcCode.INVALID_PARAMETER
        : e.kind === 'wallet'
          ? RpcCode.WALLET_ERROR
          : RpcCode.INVALID_ADDRESS_OR_KEY,
      e.message,
    );
  if (e instanceof MnemonicError) return new RpcError(RpcCode.INVALID_PARAMETER, e.message);
  if (e instanceof WalletFileError || e instanceof WalletError)
    return new RpcError(RpcCode.WALLET_ERROR, e.message);
  return e;
}

/** Which network's addresses start with this version byte: Tally's three, or Bitcoin's. */
function networkOfVersion(version: number): string | undefined {
  for (const n of ['main', 'test', 'regtest'] as const) {
    const p = getParams(n).prefixes;
    if (p.pubkeyHash === version || p.scriptHash === version) return `Tally's ${n} network (--network ${n})`;
  }
  const b = getParams('bitcoin').prefixes;
  if (b.pubkeyHash === version || b.scriptHash === version) return 'Bitcoin (main network)';
  // Bitcoin's testnet, signet and regtest share these.
  if (version === 111 || version === 196) return 'Bitcoin (test network)';
  return undefined;
}

/** The name of the wallet a request reached (getwalletinfo's walletname). */
export function walletNameOf(wallets: WalletsPort, ctx: RpcContext, wallet: Wallet): string | undefined {
  return walletName(ctx) ?? wallets.names().find((n) => wallets.get(n) === wallet);
}

/** The wallet a request names through /wallet/<name> in its URL. */
export function walletName(ctx: RpcContext): string | undefined {
  const m = /^\/wallet\/([^/?]+)/.exec(ctx.uri);
  return m ? decodeURIComponent(m[1]) : undefined;
}

/**
 * fee_rate in sat/vB -> base units per 1000 bytes, as Core's AmountFromValue(value, 3): a number or
 * numeric string with at most 3 decimals (-3 "Invalid amount"), not negative (-3 "Amount out of
 * range"); above 1,000,000 sat/vB is -8.
 */
export function feeRateFromSatPerVb(r: ParamReader, i: number): bigint {
  const rate = r.fixed(i, 3);
  if (rate > 1_000_000_000n) throw r.invalid(i, 'fee rate must be 0..1000000 sat/vB');
  return rate;
}

/**
 * Core's GetAvoidReuseFlag: a send's or getbalance's avoid_reuse, defaulting to the wallet's flag;
 * true on a wallet without the flag is -8.
 */
export function avoidReuseParam(r: ParamReader, i: number, wallet: Wallet): boolean {
  const avoid = r.optBool(i, wallet.avoidReuse);
  if (avoid && !wallet.avoidReuse)
    throw new RpcError(RpcCode.INVALID_PARAMETER, 'wallet does not have the "avoid reuse" feature enabled');
  return avoid;
}

export type WalletHandler = (r: ParamReader, ctx: RpcContext, wallet: () => Wallet) => unknown;

/** Registers wallet methods: the wallet is chosen per request and wallet errors become RPC codes. */
export function walletRegistrar(
  server: RpcServer,
  wallets: WalletsPort,
): (name: string, params: string[], help: string, fn: WalletHandler) => void {
  const register = methodRegistrar(server);
  return (name, params, help, fn) =>
    register(name, params, help, async (r, _raw, ctx) => {
      try {
        return await fn(r, ctx, () => wallets.get(walletName(ctx)));
      } catch (e) {
        throw walletRpcError(e);
      }
    });
}

/** Core's DEFAULT_TRANSACTION_MINFEE (-mintxfee, not configurable in Tally): 1,000 per 1,000 bytes. */
const WALLET_MIN_TX_FEE_PER_KB = 1000n;

/** Core's CFeeRate::ToString(SAT_VB): "1.000 sat/vB" for 1,000 base units per 1,000 bytes. */
const satPerVb = (perKb: bigint) => `${perKb / 1000n}.${(perKb % 1000n).toString().padStart(3, '0')} sat/vB`;

/**
 * Core's CreateTransaction check on an explicit fee rate: below the wallet's required rate (the
 * larger of -mintxfee and the relay minimum, Core's GetRequiredFeeRate) it is refused with `code`
 * (-6 in sendtoaddress/sendmany, -4 in send, -8 in sendall), never raised silently.
 */
export function checkExplicitFeeRate(rate: bigint, deps: WalletRpcDeps, code: number): void {
  const relay = deps.minRelayFeeRatePerKb ?? WALLET_MIN_TX_FEE_PER_KB;
  const floor = relay > WALLET_MIN_TX_FEE_PER_KB ? relay : WALLET_MIN_TX_FEE_PER_KB;
  if (rate < floor)
    throw new RpcError(
      code,
      `Fee rate (${satPerVb(rate)}) is lower than the minimum fee rate setting (${satPerVb(floor)})`,
    );
}

/**
 * The fee rate of a send, as Core chooses it: fee_rate (sat/vB) when given, else settxfee's,
 * else the estimate for conf_target, else the fallback fee. Base units per 1,000 bytes.
 */
export function pickFeeRate(
  r: ParamReader,
  feeRateIndex: number,
  confTargetIndex: number,
  deps: WalletRpcDeps,
  wallet: Wallet,
  belowMinCode: number = RpcCode.WALLET_INSUFFICIENT_FUNDS,
): { rate: bigint; reason: string } {
  if (r.has(feeRateIndex) && r.has(confTargetIndex))
    throw new RpcError(
      RpcCode.INVALID_PARAMETER,
      'Cannot specify both conf_target and fee_rate. Please provide either a confirmation target in blocks for automatic fee estimation, or an explicit fee rate.',
    );
  if (r.has(feeRateIndex)) {
    const rate = feeRateFromSatPerVb(r, feeRateIndex);
    checkExplicitFeeRate(rate, deps, belowMinCode);
    return { rate, reason: 'Fee rate' };
  }
  if (wallet.payTxFee > 0n) return { rate: wallet.payTxFee, reason: 'PayTxFee set' };
  const estimate = deps.estimateFeeRatePerKb?.(r.optInt(confTargetIndex, 6, 1, 1008)) ?? null;
  return estimate === null
    ? { rate: deps.defaultFeeRatePerKb, reason: 'Fallback fee' }
    : { rate: estimate, reason: 'Fee estimation' };
}

/**
 * Funds, signs, broadcasts and records a payment under the wallet's send lock; the outputs at
 * `subtractFeeFrom` pay the fee.
 */
export function sendPayment(
  wallet: Wallet,
  deps: WalletRpcDeps,
  outputs: PaymentOutput[],
  rate: bigint,
  subtractFeeFrom?: number[],
  avoidReuse?: boolean,
): Promise<FundedTransaction> {
  // One send at a time per wallet: a second one chooses its coins after the first spent its.
  return wallet.runExclusive(async () => {
    const funded = createTransaction(wallet, outputs, rate, deps.maxTxFee, subtractFeeFrom, avoidReuse);
    await deps.broadcast(funded.tx);
    wallet.commitTransaction(funded.tx);
    return funded;
  });
}

const amount = (sats: bigint) => new JsonAmount(sats);

/**
 * Core's InferDescriptor over the wallet's keys and redeem scripts: the descriptor getaddressinfo
 * and listunspent print for a solvable script (undefined when the wallet cannot solve it).
 */
export function walletDescriptor(wallet: Wallet, script: Uint8Array): string | undefined {
  const info = wallet.scriptInfo(script);
  if (info === null || !info.solvable) return undefined;
  const known: SigningInfo = { keys: new Map(), redeemScripts: new Map() };
  const addKey = (pubkey: Uint8Array) =>
    known.keys.set(bytesToHex(hash160(pubkey)), { pubkey, origin: wallet.keyOrigin(pubkey) });
  if (info.publicKey !== undefined) addKey(info.publicKey);
  if (info.redeemScript !== undefined) {
    known.redeemScripts.set(bytesToHex(hash160(info.redeemScript)), info.redeemScript);
    for (const k of multisigOf(info.redeemScript)?.pubkeys ?? []) addKey(k);
  }
  return inferDescriptor(script, wallet.prefixes, known);
}

/**
 * Core's UpdateWalletSetting after a wallet is created, loaded, restored or unloaded: a
 * load_on_startup parameter of true or false updates settings.json (null or absent leaves it);
 * the result's `warnings`, present only when there is one, as Core's PushWarnings.
 */
export function startupSetting(wallets: WalletsPort) {
  return (r: ParamReader, i: number, name: string, warnings: string[] = []): { warnings?: string[] } => {
    const load = r.has(i) ? r.bool(i) : undefined;
    const problem = load === undefined ? undefined : wallets.setLoadOnStartup(name, load);
    const all = problem === undefined ? warnings : [...warnings, problem];
    return all.length > 0 ? { warnings: all } : {};
  };
}

/** Core's lastprocessedblock: the block the wallet's answer is as of. */
export function lastProcessedBlock(wallet: Wallet): { hash: string; height: number } | undefined {
  return wallet.tip ? { hash: wallet.tip.hash, height: wallet.tip.height } : undefined;
}

/** Core's WalletTxToJSON: the transaction-wide fields of gettransaction and of each list entry. */
export function walletTxJson(wallet: Wallet, deps: WalletRpcDeps, txid: string): Record<string, unknown> {
  const found = wallet.getTransaction(txid);
  if (found === null) return { txid };
  const { tx, record: rec, confirmations } = found;
  const confirmed = rec.blockHash !== null;
  const mempoolconflicts = tx.isCoinbase()
    ? []
    : [
        ...new Set(
          tx.inputs
            .map((i) => deps.mempoolSpender?.(i.prevout))
            .filter((id): id is string => id !== undefined && id !== txid),
        ),
      ];
  return {
    confirmations,
    generated: tx.isCoinbase() ? true : undefined,
    // Core: trusted only while not in a block (unconfirmed or conflicted).
    trusted: confirmed ? undefined : wallet.isTrusted(txid),
    blockhash: rec.blockHash ?? undefined,
    blockheight: rec.height ?? undefined,
    blockindex: confirmed ? rec.blockIndex : undefined,
    blocktime: rec.blockTime ?? undefined,
    txid,
    // No segregated witness: the witness hash is the txid.
    wtxid: txid,
    walletconflicts: wallet.conflictsOf(txid),
    replaced_by_txid: rec.replacedBy,
    replaces_txid: rec.replaces,
    mempoolconflicts,
    time: rec.time,
    timereceived: rec.time,
    // Core's rule: unconfirmed and an input signals (the pool replaces anything: full RBF).
    'bip125-replaceable':
      confirmations > 0 ? 'no' : tx.inputs.some((i) => i.sequence <= 0xfffffffd) ? 'yes' : 'no',
  };
}

/** A history entry's own fields (gettransaction's details): Core's ListTransactions without fLong. */
export function entryJson(e: HistoryEntry, abandoned: boolean): Record<string, unknown> {
  return {
    involvesWatchonly: e.watchOnly === true ? true : undefined,
    address: e.address ?? undefined,
    category: e.category,
    amount: amount(e.amount),
    label: e.label,
    vout: e.vout,
    fee: e.fee !== undefined ? amount(e.fee) : undefined,
    abandoned: e.category === 'send' ? abandoned : undefined,
  };
}

/**
 * listtransactions' and listsinceblock's entries (Core's ListTransactions with fLong): each
 * entry's fields and its transaction's, computed once per transaction.
 */
export function historyJson(
  wallet: Wallet,
  deps: WalletRpcDeps,
): (e: HistoryEntry) => Record<string, unknown> {
  const txJson = new Map<string, Record<string, unknown>>();
  return (e) => {
    let t = txJson.get(e.txid);
    if (t === undefined) txJson.set(e.txid, (t = walletTxJson(wallet, deps, e.txid)));
    const { abandoned, ...own } = entryJson(e, wallet.getTransaction(e.txid)?.record.abandoned === true);
    return { ...own, ...t, abandoned };
  };
}

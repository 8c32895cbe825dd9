// Connecting a block to the UTXO set (Bitcoin Core's ConnectBlock), the one copy the chain, BIP23
// proposals and the conformance tests run. Pure and synchronous: the caller reads the coins the
// block needs first (connectFetchList), then connectBlock walks the block in Core's order of
// checks and changes the view: BIP30 over the whole block before any transaction is applied,
// then per transaction the inputs (CheckTxInputs), accumulated fees, BIP68 sequence locks, the
// sigop total and the script checks to run; after the walk the coinbase amount. Scripts are not
// run here: the checks come out (and, if the caller wants them early, one by one through
// onScriptCheck) for the chain's verify pool or runScriptChecks, whose failure the caller reports
// after every other rule, as Core reports control.Wait() last.
import type { Block } from '../primitives/block.js';
import { OutPoint, TxOut, type Tx } from '../primitives/tx.js';
import { ScriptError } from '../script/errors.js';
import { ScriptFlags } from '../script/flags.js';
import { verifyInput } from '../script/interpreter.js';
import { isUnspendable } from '../script/script.js';
import type { SigCache } from '../script/sigcache.js';
import { moneyRange } from './amount.js';
import { checkBlockSigOps, transactionSigOpCount } from './block-check.js';
import { Reason, type RejectError, consensusError } from './errors.js';
import { blockScriptFlags } from './flags.js';
import type { ChainParams } from './params.js';
import { checkCoinbaseAmount } from './subsidy.js';
import {
  type Coin,
  type CoinView,
  calculateSequenceLocks,
  checkBIP30,
  checkSequenceLocks,
  checkTxInputs,
  isBIP30Exception,
} from './tx-verify.js';

/** A coins view connectBlock can change; spend returns the coin it removed. */
export interface ConnectView extends CoinView {
  add(op: OutPoint, coin: Coin): void;
  spend(op: OutPoint): Coin | undefined;
}

/** The input scripts of one transaction to verify. */
export interface ScriptCheck {
  /** Position of the transaction in the block. */
  index: number;
  tx: Tx;
  /** prevouts[i]: the output input i spends. */
  prevouts: readonly Pick<Coin, 'value' | 'script'>[];
  flags: number;
}

export interface ConnectContext {
  /** Height of the block being connected. */
  height: number;
  /** Median time past of the parent (BIP68's time cutoff). */
  prevMedianTimePast: number;
  /** Median time past of the ancestor at a height (BIP68 time locks of the coins spent). */
  medianTimePastAt(height: number): number;
  /**
   * Display hex of the block's ancestor at params.bip34Height, undefined when the block is not
   * above that height (or the caller does not know it: BIP30 is then checked).
   */
  bip34Ancestor?: string;
  /** The transaction's scripts passed before under these flags (the script-execution cache). */
  scriptsVerified?(tx: Tx, flags: number): boolean;
  /** Receives each script check as soon as it is known (so workers start during the walk). */
  onScriptCheck?(check: ScriptCheck): void;
}

export interface ConnectResult {
  fees: bigint;
  /** undo[t - 1][i]: the coin input i of transaction t spent. */
  undo: Coin[][];
  /** The script checks still to run (transactions scriptsVerified did not vouch for). */
  scriptChecks: ScriptCheck[];
  flags: number;
  sigops: number;
}

/**
 * Core's BIP34_IMPLIES_BIP30_LIMIT: from this height BIP30 is checked again on every chain, since
 * Bitcoin coinbases from before BIP34 name heights from here on, and one of them repeated there
 * would be a valid BIP34 coinbase with the txid of an unspent one.
 */
export const BIP34_IMPLIES_BIP30_LIMIT = 1_983_702;

/**
 * Whether BIP30 applies to this block (Core's ConnectBlock): not to Core's two historical
 * exceptions, and not on the chain whose block at params.bip34Height is params.bip34Hash, where
 * BIP34 (every coinbase opens with its own height) leaves no way to repeat an unspent
 * transaction, up to BIP34_IMPLIES_BIP30_LIMIT. `bip34Ancestor`: the display hex of the block's
 * ancestor at bip34Height (its parent's GetAncestor), undefined when the block is not above it.
 */
export function enforcesBIP30(
  block: Block,
  height: number,
  params: ChainParams,
  bip34Ancestor: string | undefined,
): boolean {
  if (height >= BIP34_IMPLIES_BIP30_LIMIT) return true;
  if (params.bip34Hash !== null && bip34Ancestor === params.bip34Hash) return false;
  return !isBIP30Exception(height, block.hashHex(), params);
}

/** The outpoints connectBlock reads: every input, and every output when BIP30 applies. */
export function connectFetchList(
  block: Block,
  ctx: Pick<ConnectContext, 'height' | 'bip34Ancestor'>,
  params: ChainParams,
): OutPoint[] {
  const out: OutPoint[] = [];
  const bip30 = enforcesBIP30(block, ctx.height, params, ctx.bip34Ancestor);
  for (let t = 0; t < block.txs.length; t++) {
    const tx = block.txs[t];
    if (t > 0) for (const i of tx.inputs) out.push(i.prevout);
    if (bip30) for (let i = 0; i < tx.outputs.length; i++) out.push(tx.outpoint(i));
  }
  return out;
}

/** Adds a transaction's spendable outputs to the view. */
export function addOutputs(view: ConnectView, tx: Tx, height: number, coinbase: boolean): void {
  for (let i = 0; i < tx.outputs.length; i++) {
    const o = tx.outputs[i];
    if (isUnspendable(o.scriptPubKey)) continue;
    view.add(tx.outpoint(i), { value: o.value, script: o.scriptPubKey, height, coinbase });
  }
}

/**
 * Checks a block that passed checkBlock and contextualCheckBlock against the view (which must
 * hold the coins of connectFetchList) and applies it there. Throws a RejectError with Core's
 * reason; on a throw the view is half-changed and must be dropped.
 */
export function connectBlock(
  block: Block,
  view: ConnectView,
  ctx: ConnectContext,
  params: ChainParams,
): ConnectResult {
  const height = ctx.height;
  // Core checks BIP30 against the coins before the block, for every transaction, before any is
  // applied: a transaction repeated later in the same block fails as a double spend instead.
  if (enforcesBIP30(block, height, params, ctx.bip34Ancestor))
    for (const tx of block.txs) checkBIP30(tx, view);

  const flags = blockScriptFlags(height, block.hash(), params);
  const p2sh = (flags & ScriptFlags.P2SH) !== 0;
  const enforceBIP68 = height >= params.csvHeight;
  const undo: Coin[][] = [];
  const scriptChecks: ScriptCheck[] = [];
  let fees = 0n;
  let sigops = 0;
  for (let t = 0; t < block.txs.length; t++) {
    const tx = block.txs[t];
    if (t === 0) {
      sigops += transactionSigOpCount(tx, [], false);
      checkBlockSigOps(sigops, params);
      addOutputs(view, tx, height, true);
      continue;
    }
    fees += checkTxInputs(tx, view, height, params);
    if (!moneyRange(fees)) throw consensusError(Reason.ACCUMULATED_FEE_OUTOFRANGE, `fees ${fees}`);
    const spent = tx.inputs.map((i) => view.getCoin(i.prevout)!);
    if (enforceBIP68) {
      const heights = spent.map((c) => c.height);
      const locks = calculateSequenceLocks(tx, heights, (h) => ctx.medianTimePastAt(h), true);
      checkSequenceLocks(locks, height, ctx.prevMedianTimePast);
    }
    sigops += transactionSigOpCount(
      tx,
      spent.map((c) => c.script),
      p2sh,
    );
    checkBlockSigOps(sigops, params);
    if (!ctx.scriptsVerified?.(tx, flags)) {
      const check = { index: t, tx, prevouts: spent, flags };
      scriptChecks.push(check);
      ctx.onScriptCheck?.(check);
    }
    for (const i of tx.inputs) view.spend(i.prevout);
    undo.push(spent);
    addOutputs(view, tx, height, false);
  }
  checkCoinbaseAmount(block, fees, height, params);
  return { fees, undo, scriptChecks, flags, sigops };
}

/** The error a failed input script gives a block (Core's reason for a consensus-flag failure). */
export function scriptFailure(tx: Tx, input: number, code: string): RejectError {
  return consensusError(`mandatory-script-verify-flag-failed (${code})`, `tx ${tx.txidHex()} input ${input}`);
}

/** Runs script checks on this thread, in order; throws the first failure. */
export function runScriptChecks(checks: readonly ScriptCheck[], sigCache?: SigCache): void {
  for (const c of checks) {
    for (let i = 0; i < c.tx.inputs.length; i++) {
      try {
        verifyInput(c.tx, i, new TxOut(c.prevouts[i].value, c.prevouts[i].script), c.flags, sigCache);
      } catch (e) {
        if (e instanceof ScriptError) throw scriptFailure(c.tx, i, e.code);
        throw e;
      }
    }
  }
}

/**
 * A view over coins read beforehand (a Map by outpoint key) that records spends and additions in
 * its own layer; for callers that must not touch the chain's cache (BIP23 proposals, tests).
 */
export class OverlayView implements ConnectView {
  private readonly layer = new Map<string, Coin | null>();
  constructor(private readonly base: ReadonlyMap<string, Coin | undefined>) {}

  /** The view over `ops` and the coins read for them (in the same order). */
  static of(ops: readonly OutPoint[], coins: readonly (Coin | undefined)[]): OverlayView {
    const m = new Map<string, Coin | undefined>();
    ops.forEach((op, i) => m.set(op.key(), coins[i]));
    return new OverlayView(m);
  }

  getCoin(op: OutPoint): Coin | undefined {
    const k = op.key();
    const own = this.layer.get(k);
    if (own !== undefined) return own ?? undefined;
    return this.base.get(k);
  }

  add(op: OutPoint, coin: Coin): void {
    this.layer.set(op.key(), coin);
  }

  spend(op: OutPoint): Coin | undefined {
    const c = this.getCoin(op);
    if (c) this.layer.set(op.key(), null);
    return c;
  }
}

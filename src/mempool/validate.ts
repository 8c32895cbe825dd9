// Core's MemPoolAccept checks for one transaction (PreChecks, the policy checks, the package
// limits, PolicyScriptChecks): consensus rules first, then policy, against the tip's coins and the
// pool's unconfirmed parents. Owns the verdict and the entry it would add, with the pool entries a
// replacement would evict. Does not own changing the pool, its lock or its events (mempool.ts
// runs this under the acceptance lock and inserts what it returns). Fails by throwing RejectError:
// 'consensus' for an invalid transaction, 'policy' for one this node merely does not want.
import { Reason, RejectError, consensusError } from '../consensus/errors.js';
import { checkTransaction } from '../consensus/tx-check.js';
import {
  type Coin,
  calculateSequenceLocks,
  checkSequenceLocks,
  checkTxInputs,
  isFinalTx,
} from '../consensus/tx-verify.js';
import { OutPoint, type Tx, TxOut } from '../primitives/tx.js';
import { bytesToHex } from '../primitives/bytes.js';
import { ScriptError } from '../script/errors.js';
import { MANDATORY_SCRIPT_FLAGS, STANDARD_SCRIPT_FLAGS } from '../script/flags.js';
import { verifyInput } from '../script/interpreter.js';
import type { SigCache } from '../script/sigcache.js';
import { getLegacySigOpCount, getP2SHSigOpCount } from '../script/sigops.js';
import {
  MAX_STANDARD_TX_SIGOPS,
  PolicyReason,
  checkInputsStandard,
  checkStandardTx,
  feeForSize,
  policyReject,
} from './policy.js';
import { type ReplacementPool, checkReplacement } from './replacement.js';
import type { AcceptOptions, MempoolChain, MempoolEntry, MempoolParams, Validated } from './types.js';

/** Core's client-side cap (submitpackage, testmempoolaccept): a policy refusal. */
export const MAX_FEERATE_EXCEEDED = 'max feerate exceeded';

/** What validation reads of the pool: the Mempool's own public reads. */
export interface AcceptPool extends ReplacementPool<MempoolEntry> {
  readonly minRelayFeeRate: bigint;
  readonly incrementalRelayFeeRate: bigint;
  /** The pool transaction spending `outpoint`, if any. */
  spender(outpoint: OutPoint): MempoolEntry | undefined;
  /** The delta prioritisetransaction set for this txid (internal hex). */
  feeDelta(txid: string): bigint;
  /** The relay floor or the eviction floor, whichever is higher. */
  minFeeRate(): bigint;
  ancestors(e: MempoolEntry): Map<string, MempoolEntry>;
}

/** The pool's settings validation reads. */
export interface AcceptConfig {
  chain: MempoolChain;
  params: MempoolParams;
  ancestorLimit: number;
  descendantLimit: number;
  sigCache?: SigCache;
  onScriptsVerified?: (txid: Uint8Array, flags: number) => void;
  /** Unix seconds. */
  now: () => number;
}

/**
 * Validates `tx` against the tip and the pool once: the entry it would become and the pool entries
 * it would replace. The caller re-runs it if the tip moved during the coin read.
 */
export async function validateTx(
  pool: AcceptPool,
  cfg: AcceptConfig,
  tx: Tx,
  opts: AcceptOptions,
): Promise<Validated> {
  checkTransaction(tx);
  if (tx.isCoinbase()) throw new RejectError(PolicyReason.COINBASE, 'consensus', { dos: 100 });
  checkStandardTx(tx);
  const tipHeight = cfg.chain.tipHeight();
  const height = tipHeight + 1;
  const mtp = cfg.chain.tipMedianTimePast();
  if (!isFinalTx(tx, height, mtp)) throw policyReject(PolicyReason.NON_FINAL);
  const txid = bytesToHex(tx.txid());
  if (pool.get(txid) !== undefined) throw policyReject(PolicyReason.ALREADY_IN_MEMPOOL);
  // Pool transactions spending the same coins: replaced if this one pays enough (below).
  const conflicts = new Set<string>();
  for (const input of tx.inputs) {
    const other = pool.spender(input.prevout)?.txid;
    if (other !== undefined) conflicts.add(other);
  }

  // Coins: unconfirmed parents from the pool, the rest from the chain in one batch.
  const coins = new Map<string, Coin>();
  const fromChain: OutPoint[] = [];
  for (const input of tx.inputs) {
    const parent = pool.get(bytesToHex(input.prevout.hash));
    if (parent) {
      const out = parent.tx.outputs[input.prevout.index];
      if (!out)
        throw consensusError(Reason.INPUTS_MISSINGORSPENT, `no output ${input.prevout.index} in ${txid}`);
      coins.set(input.prevout.key(), {
        value: out.value,
        script: out.scriptPubKey,
        height,
        coinbase: false,
      });
    } else fromChain.push(input.prevout);
  }
  const selfOutpoints = tx.outputs.map((_, i) => new OutPoint(tx.txid(), i));
  const found = await cfg.chain.getCoins([...fromChain, ...selfOutpoints]);
  // A block connected during the read may have removed a pool parent (confirmed or conflicted).
  for (const input of tx.inputs) {
    const key = input.prevout.key();
    if (coins.has(key) && pool.get(bytesToHex(input.prevout.hash)) === undefined)
      throw policyReject(PolicyReason.MISSING_INPUTS, key);
  }
  const missing: string[] = [];
  fromChain.forEach((op, i) => {
    const c = found[i];
    if (c) coins.set(op.key(), c);
    else missing.push(op.key());
  });
  if (missing.length > 0) {
    // Core: if the transaction's own outputs are already in the UTXO set, it is confirmed.
    if (found.slice(fromChain.length).some((c) => c !== undefined))
      throw policyReject(PolicyReason.ALREADY_KNOWN);
    throw policyReject(PolicyReason.MISSING_INPUTS, missing.join(', '));
  }

  const prevHeights = tx.inputs.map((i) => (coins.get(i.prevout.key()) as Coin).height);
  const locks = calculateSequenceLocks(
    tx,
    prevHeights,
    (h) => cfg.chain.medianTimePastAt(h),
    height >= cfg.params.csvHeight,
  );
  checkSequenceLocks(locks, height, mtp, 'mempool');

  const view = { getCoin: (op: OutPoint) => coins.get(op.key()) };
  const fee = checkTxInputs(tx, view, height, cfg.params);
  const prevScripts = tx.inputs.map((i) => (coins.get(i.prevout.key()) as Coin).script);
  checkInputsStandard(tx, prevScripts);
  const sigops = getLegacySigOpCount(tx) + getP2SHSigOpCount(tx, prevScripts);
  if (sigops > MAX_STANDARD_TX_SIGOPS) throw policyReject(PolicyReason.TOO_MANY_SIGOPS, `${sigops}`);

  const size = tx.size;
  // Core checks the modified fee: a prioritised transaction may enter below the floors, replace
  // what it would not replace on its fee alone, or resist a replacement.
  const modified = fee + pool.feeDelta(txid);
  if (!opts.bypassFeeChecks) {
    const relayFloor = feeForSize(pool.minRelayFeeRate, size);
    if (modified < relayFloor) throw policyReject(PolicyReason.MIN_RELAY_FEE, `${modified} < ${relayFloor}`);
    const poolFloor = feeForSize(pool.minFeeRate(), size);
    if (modified < poolFloor) throw policyReject(PolicyReason.MEMPOOL_MIN_FEE, `${modified} < ${poolFloor}`);
  }
  if (opts.maxFeeRate !== undefined && modified * 1000n > opts.maxFeeRate * BigInt(size))
    throw policyReject(MAX_FEERATE_EXCEEDED, `${(modified * 1000n) / BigInt(size)} > ${opts.maxFeeRate}`);

  const entry: MempoolEntry = {
    tx,
    txid,
    fee,
    size,
    time: opts.time ?? cfg.now(),
    height: tipHeight,
    sigops,
  };
  const ancestors = pool.ancestors(entry);
  // The conflicts are read again: the coin read above awaited (only a new tip, which restarts
  // validation, can change the pool then, but a missing entry must not be evicted twice).
  const direct = [...conflicts].map((id) => pool.get(id)).filter((e) => e !== undefined);
  const replaces =
    direct.length === 0
      ? []
      : checkReplacement(pool, tx, modified, size, direct, ancestors, pool.incrementalRelayFeeRate);
  checkPackageLimits(pool, cfg, ancestors);
  checkScripts(cfg, tx, coins);
  return { entry, replaces };
}

function checkPackageLimits(pool: AcceptPool, cfg: AcceptConfig, ancestors: Map<string, MempoolEntry>): void {
  if (ancestors.size + 1 > cfg.ancestorLimit) {
    throw policyReject(
      PolicyReason.TOO_LONG_CHAIN,
      `too many unconfirmed ancestors [limit: ${cfg.ancestorLimit}]`,
    );
  }
  for (const a of ancestors.values()) {
    if (pool.descendants(a).size + 2 > cfg.descendantLimit) {
      throw policyReject(
        PolicyReason.TOO_LONG_CHAIN,
        `too many descendants for tx ${a.txid} [limit: ${cfg.descendantLimit}]`,
      );
    }
  }
}

/**
 * Scripts under policy flags; a failure that the consensus flags alone would also produce makes
 * the transaction invalid (scored), otherwise it is only non-standard (Core's two-pass check).
 */
function checkScripts(cfg: AcceptConfig, tx: Tx, coins: Map<string, Coin>): void {
  const outs = tx.inputs.map((i) => {
    const c = coins.get(i.prevout.key()) as Coin;
    return new TxOut(c.value, c.script);
  });
  for (let i = 0; i < tx.inputs.length; i++) {
    try {
      verifyInput(tx, i, outs[i], STANDARD_SCRIPT_FLAGS, cfg.sigCache);
    } catch (e) {
      if (!(e instanceof ScriptError)) throw e;
      try {
        verifyInput(tx, i, outs[i], MANDATORY_SCRIPT_FLAGS, cfg.sigCache);
      } catch (e2) {
        if (!(e2 instanceof ScriptError)) throw e2;
        throw consensusError(`mandatory-script-verify-flag-failed (${e2.code})`, `input ${i}`);
      }
      throw policyReject(`non-mandatory-script-verify-flag (${e.code})`, `input ${i}`);
    }
  }
  cfg.onScriptsVerified?.(tx.txid(), STANDARD_SCRIPT_FLAGS);
}

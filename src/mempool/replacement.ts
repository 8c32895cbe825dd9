// Replacement (Core's full RBF, BIP125 rules 2-6 without the signalling rule 1): a transaction
// that spends what pool transactions already spend may take their place when it pays more. Owns
// the rules and Core's reject strings; the pool calls it inside its acceptance lock and evicts
// what it returns in the same step as the insertion. Every fee here is a modified fee (the fee plus
// prioritisetransaction's delta), on both sides, as Core's PaysMoreThanConflicts and PaysForRBF.
// Fails by throwing a policy RejectError.
import { formatCoins } from '../consensus/amount.js';
import type { Tx } from '../primitives/tx.js';
import { bytesToHex } from '../primitives/bytes.js';
import { MAX_REPLACEMENT_CANDIDATES, PolicyReason, feeForSize, policyReject } from './policy.js';

export interface ReplaceableEntry {
  readonly tx: Tx;
  readonly txid: string;
  readonly fee: bigint;
  readonly size: number;
}

export interface ReplacementPool<E extends ReplaceableEntry> {
  get(txid: string): E | undefined;
  descendants(e: E): Map<string, E>;
  /** The fee plus prioritisetransaction's delta. */
  modifiedFee(e: E): bigint;
}

const rate = (fee: bigint, size: number) => (fee * 1000n) / BigInt(size);

/** Coins per 1,000 bytes as Core prints a CFeeRate in these messages. */
const showRate = (perKb: bigint) => `${formatCoins(perKb)} BTC/kvB`;

/**
 * Checks a replacement of the pool transactions in `direct` (those spending one of `tx`'s
 * inputs) and returns every entry it would evict: the direct conflicts and their descendants.
 * `ancestors` are the replacement's own in-pool ancestors; `fee` is the replacement's modified fee.
 */
export function checkReplacement<E extends ReplaceableEntry>(
  pool: ReplacementPool<E>,
  tx: Tx,
  fee: bigint,
  size: number,
  direct: readonly E[],
  ancestors: ReadonlyMap<string, E>,
  incrementalRelayFeeRate: bigint,
): E[] {
  const txid = tx.txidHex();
  // Rule 5: a bound on evictions, counted before the descendants are enumerated in full.
  let candidates = 0;
  const evict = new Map<string, E>();
  for (const c of direct) {
    const desc = pool.descendants(c);
    candidates += 1 + desc.size;
    if (candidates > MAX_REPLACEMENT_CANDIDATES)
      throw policyReject(
        PolicyReason.TOO_MANY_REPLACEMENTS,
        `rejecting replacement ${txid}; too many potential replacements (${candidates} > ${MAX_REPLACEMENT_CANDIDATES})`,
      );
    evict.set(c.txid, c);
    for (const [id, d] of desc) evict.set(id, d);
  }
  // A replacement may not spend what it evicts.
  for (const id of ancestors.keys())
    if (evict.has(id))
      throw policyReject(
        PolicyReason.SPENDS_CONFLICTING_TX,
        `${txid} spends conflicting transaction ${evict.get(id)!.tx.txidHex()}`,
      );
  // Rule 6: a higher fee rate than each transaction it directly replaces.
  const newRate = rate(fee, size);
  for (const c of direct) {
    const old = rate(pool.modifiedFee(c), c.size);
    if (newRate <= old)
      throw policyReject(
        PolicyReason.INSUFFICIENT_FEE,
        `rejecting replacement ${txid}; new feerate ${showRate(newRate)} <= old feerate ${showRate(old)}`,
      );
  }
  // Rule 2: no unconfirmed input that none of the replaced transactions had.
  const parentsOfConflicts = new Set<string>();
  for (const c of direct) for (const i of c.tx.inputs) parentsOfConflicts.add(bytesToHex(i.prevout.hash));
  tx.inputs.forEach((input, idx) => {
    const parent = bytesToHex(input.prevout.hash);
    if (!parentsOfConflicts.has(parent) && pool.get(parent) !== undefined)
      throw policyReject(
        PolicyReason.REPLACEMENT_ADDS_UNCONFIRMED,
        `replacement ${txid} adds unconfirmed input, idx ${idx}`,
      );
  });
  // Rules 3 and 4: at least the fees of everything evicted, plus its own relay at the incremental rate.
  let evictedFees = 0n;
  for (const e of evict.values()) evictedFees += pool.modifiedFee(e);
  if (fee < evictedFees)
    throw policyReject(
      PolicyReason.INSUFFICIENT_FEE,
      `rejecting replacement ${txid}, less fees than conflicting txs; ${fee} < ${evictedFees}`,
    );
  const required = feeForSize(incrementalRelayFeeRate, size);
  if (fee - evictedFees < required)
    throw policyReject(
      PolicyReason.INSUFFICIENT_FEE,
      `rejecting replacement ${txid}, not enough additional fees to relay; ${fee - evictedFees} < ${required}`,
    );
  return [...evict.values()];
}

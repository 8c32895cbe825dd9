// Context-free transaction checks (Bitcoin Core's CheckTransaction): what a transaction must
// satisfy whatever chain or UTXO set it meets. Throws RejectError (category consensus).
import type { Tx } from '../primitives/tx.js';
import { MAX_MONEY, moneyRange } from './amount.js';
import { Reason, consensusError } from './errors.js';

/** Pre-SegWit MAX_BLOCK_SIZE: no transaction may be larger than a block could be. */
export const MAX_TX_SIZE = 1_000_000;

export const MIN_COINBASE_SCRIPT_SIZE = 2;
export const MAX_COINBASE_SCRIPT_SIZE = 100;

export function checkTransaction(tx: Tx): void {
  if (tx.inputs.length === 0) throw consensusError(Reason.VIN_EMPTY);
  if (tx.outputs.length === 0) throw consensusError(Reason.VOUT_EMPTY);
  if (tx.size > MAX_TX_SIZE) throw consensusError(Reason.OVERSIZE, `size ${tx.size}`);

  let total = 0n;
  for (let i = 0; i < tx.outputs.length; i++) {
    const v = tx.outputs[i].value;
    if (v < 0n) throw consensusError(Reason.VOUT_NEGATIVE, `output ${i}`);
    if (v > MAX_MONEY) throw consensusError(Reason.VOUT_TOOLARGE, `output ${i}`);
    total += v;
    if (!moneyRange(total)) throw consensusError(Reason.TXOUTTOTAL_TOOLARGE, `after output ${i}`);
  }

  checkDuplicateInputs(tx);

  if (tx.isCoinbase()) {
    const n = tx.inputs[0].scriptSig.length;
    if (n < MIN_COINBASE_SCRIPT_SIZE || n > MAX_COINBASE_SCRIPT_SIZE) {
      throw consensusError(Reason.CB_LENGTH, `scriptSig size ${n}`);
    }
  } else {
    for (let i = 0; i < tx.inputs.length; i++) {
      if (tx.inputs[i].prevout.isNull()) throw consensusError(Reason.PREVOUT_NULL, `input ${i}`);
    }
  }
}

/** Up to this many inputs, checkDuplicateInputs compares pairs (at most 28 comparisons). */
const FEW_INPUTS = 8;

/**
 * Core's check for an outpoint spent twice by one transaction. A set of keys for many inputs; for
 * a few, each against those before it, which makes nothing (the set per transaction was 2 % of
 * what connecting a warm block allocated).
 */
function checkDuplicateInputs(tx: Tx): void {
  const ins = tx.inputs;
  if (ins.length <= FEW_INPUTS) {
    for (let i = 1; i < ins.length; i++) {
      const key = ins[i].prevout.key();
      for (let j = 0; j < i; j++)
        if (ins[j].prevout.key() === key) throw consensusError(Reason.INPUTS_DUPLICATE, key);
    }
    return;
  }
  const seen = new Set<string>();
  for (const input of ins) {
    const key = input.prevout.key();
    if (seen.has(key)) throw consensusError(Reason.INPUTS_DUPLICATE, key);
    seen.add(key);
  }
}

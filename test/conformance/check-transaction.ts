// Test helper: mirrors the consensus rule CheckTransaction (Core's consensus/tx_check.cpp), the
// context-free checks tx_valid.json requires to pass and tx_invalid.json's BADTX entries to fail.
// The rules helper owns the real one (src/consensus/tx-check.ts); the conformance tests switch to
// it once it lands on main.
import type { Tx } from '../../src/primitives/tx.js';

const MAX_MONEY = 21_000_000n * 100_000_000n;
const MAX_TX_SIZE = 1_000_000;

/** Returns Core's reject reason, or null when the transaction passes. */
export function checkTransactionReason(tx: Tx): string | null {
  if (tx.inputs.length === 0) return 'bad-txns-vin-empty';
  if (tx.outputs.length === 0) return 'bad-txns-vout-empty';
  if (tx.size > MAX_TX_SIZE) return 'bad-txns-oversize';
  let total = 0n;
  for (const o of tx.outputs) {
    if (o.value < 0n) return 'bad-txns-vout-negative';
    if (o.value > MAX_MONEY) return 'bad-txns-vout-toolarge';
    total += o.value;
    if (total > MAX_MONEY) return 'bad-txns-txouttotal-toolarge';
  }
  const seen = new Set<string>();
  for (const i of tx.inputs) {
    const k = i.prevout.key();
    if (seen.has(k)) return 'bad-txns-inputs-duplicate';
    seen.add(k);
  }
  if (tx.isCoinbase()) {
    const n = tx.inputs[0].scriptSig.length;
    if (n < 2 || n > 100) return 'bad-cb-length';
  } else {
    for (const i of tx.inputs) if (i.prevout.isNull()) return 'bad-txns-prevout-null';
  }
  return null;
}

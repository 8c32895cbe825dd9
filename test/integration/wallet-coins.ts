// What the wallet tests check against a real node: the wallet's coins are the node's (every one
// listunspent shows is one gettxout knows, pool included, at the same value) and its balance their sum.
import assert from 'node:assert/strict';
import type { TallyProcess } from './cluster.js';

export interface Unspent {
  txid: string;
  vout: number;
  amount: number;
  confirmations: number;
}
export interface Balances {
  mine: { trusted: number; untrusted_pending: number; immature: number };
}

/** Rounded to the satoshi (sums of floats). */
export const round = (x: number): number => Math.round(x * 1e8) / 1e8;

/** The sum of the wallet's coins (unconfirmed included), each checked against gettxout. */
export async function checkedCoins(n: TallyProcess): Promise<number> {
  let sum = 0;
  for (const c of await n.rpc<Unspent[]>('listunspent', [0])) {
    const out = await n.rpc<{ value: number } | null>('gettxout', [c.txid, c.vout, true]);
    assert.ok(out, `listunspent shows ${c.txid}:${c.vout} (${c.confirmations} conf), gettxout does not`);
    assert.equal(out.value, c.amount);
    sum += c.amount;
  }
  return round(sum);
}

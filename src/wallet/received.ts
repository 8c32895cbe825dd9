// What the wallet has received, by address and by label (Core's GetReceived and ListReceived):
// outputs paying the wallet in transactions with at least `minconf` confirmations, a coinbase
// only once in a block and, while immature, only when asked. Reads the wallet; changes nothing.
import { scriptToAddress } from '../primitives/address.js';
import { RECEIVE } from './keys.js';
import type { Wallet } from './wallet.js';

export interface Received {
  address: string;
  amount: bigint;
  /** Confirmations of the least-confirmed transaction counted (Core's nConf). */
  confirmations: number;
  txids: string[];
  /** A receiving address (listed by listreceivedbyaddress), not change. */
  receiving: boolean;
}

export function receivedByAddress(
  wallet: Wallet,
  minconf: number,
  includeImmature: boolean,
): Map<string, Received> {
  const out = new Map<string, Received>();
  for (const { txid, tx, confirmations } of wallet.transactions()) {
    if (confirmations < minconf || (tx.isCoinbase() && confirmations < 1)) continue;
    if (wallet.isImmature(tx, confirmations) && !includeImmature) continue;
    for (const o of tx.outputs) {
      const key = wallet.keyOf(o.scriptPubKey);
      const address = key === undefined ? null : scriptToAddress(o.scriptPubKey, wallet.prefixes);
      if (key === undefined || address === null) continue;
      const r = out.get(address) ?? {
        address,
        amount: 0n,
        confirmations: Number.MAX_SAFE_INTEGER,
        txids: [],
        receiving: key.branch === RECEIVE,
      };
      r.amount += o.value;
      r.confirmations = Math.min(r.confirmations, confirmations);
      if (!r.txids.includes(txid)) r.txids.push(txid);
      out.set(address, r);
    }
  }
  return out;
}

/** The addresses that carry `label`. */
export function addressesWithLabel(wallet: Wallet, label: string): string[] {
  return Object.entries(wallet.labels())
    .filter(([, l]) => l === label)
    .map(([a]) => a);
}

/**
 * Core's GetAddressGroupings: addresses seen spent together in one of our transactions (with
 * that transaction's change) are one group, joined transitively; every other address of ours
 * that received something stands alone.
 */
export function addressGroupings(wallet: Wallet): string[][] {
  const parent = new Map<string, string>();
  const find = (a: string): string => {
    let x = a;
    while (parent.get(x) !== x) x = parent.get(x)!;
    parent.set(a, x);
    return x;
  };
  const add = (a: string) => {
    if (!parent.has(a)) parent.set(a, a);
  };
  const union = (a: string, b: string) => parent.set(find(a), find(b));
  const ours = (script: Uint8Array) =>
    wallet.keyOf(script) === undefined ? null : scriptToAddress(script, wallet.prefixes);
  for (const { tx } of wallet.transactions()) {
    const group: string[] = [];
    if (!tx.isCoinbase())
      for (const i of tx.inputs) {
        const c = wallet.coinOf(i.prevout);
        if (c !== null) group.push(c.address);
      }
    if (group.length > 0)
      for (const o of tx.outputs) if (wallet.isChange(o.scriptPubKey)) group.push(ours(o.scriptPubKey)!);
    for (const a of group) add(a);
    for (const a of group.slice(1)) union(a, group[0]);
    for (const o of tx.outputs) {
      const a = ours(o.scriptPubKey);
      if (a !== null) add(a);
    }
  }
  const groups = new Map<string, string[]>();
  for (const a of parent.keys()) {
    const root = find(a);
    groups.set(root, [...(groups.get(root) ?? []), a]);
  }
  return [...groups.values()];
}

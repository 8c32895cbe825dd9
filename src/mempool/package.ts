// Package rules of Bitcoin Core v29 (policy/packages.cpp) that apply before SegWit: the
// context-free CheckPackage (count, total size, duplicates, order, conflicts inside the package)
// and the one topology submitpackage takes, a child with its unconfirmed parents
// (IsChildWithParents, IsChildWithParentsTree). Pure: the pool (mempool.ts) applies them under its
// lock. Fails by returning Core's reason string; null when the package passes.
import { bytesToHex } from '../primitives/bytes.js';
import type { Tx } from '../primitives/tx.js';

/** Core's MAX_PACKAGE_COUNT: transactions in one package. */
export const MAX_PACKAGE_COUNT = 25;
/** Core's MAX_PACKAGE_SIZE (101 kvB): total virtual size, which is the size without witnesses. */
export const MAX_PACKAGE_SIZE_BYTES = 101_000;

const idOf = (tx: Tx) => bytesToHex(tx.txid());

/** Core's CheckPackage: the package's own shape, before any coin is looked up. */
export function checkPackage(txs: readonly Tx[]): string | null {
  if (txs.length > MAX_PACKAGE_COUNT) return 'package-too-many-transactions';
  if (txs.reduce((n, tx) => n + tx.size, 0) > MAX_PACKAGE_SIZE_BYTES) return 'package-too-large';
  const ids = txs.map(idOf);
  if (new Set(ids).size !== ids.length) return 'package-contains-duplicates';
  // Sorted: no transaction spends one that comes later.
  const position = new Map(ids.map((id, i) => [id, i]));
  for (let i = 0; i < txs.length; i++)
    for (const input of txs[i].inputs)
      if ((position.get(bytesToHex(input.prevout.hash)) ?? -1) > i) return 'package-not-sorted';
  const spent = new Set<string>();
  for (const tx of txs)
    for (const input of tx.inputs) {
      const key = input.prevout.key();
      if (spent.has(key)) return 'conflict-in-package';
      spent.add(key);
    }
  return null;
}

/** Core's IsChildWithParents: the last transaction spends an output of every other one. */
export function isChildWithParents(txs: readonly Tx[]): boolean {
  if (txs.length < 2) return false;
  const child = txs[txs.length - 1];
  const spentTxids = new Set(child.inputs.map((i) => bytesToHex(i.prevout.hash)));
  return txs.slice(0, -1).every((p) => spentTxids.has(idOf(p)));
}

/** Core's IsChildWithParentsTree: a child with parents, and no parent spends another parent. */
export function isChildWithParentsTree(txs: readonly Tx[]): boolean {
  if (!isChildWithParents(txs)) return false;
  const parents = new Set(txs.slice(0, -1).map(idOf));
  return txs.slice(0, -1).every((p) => p.inputs.every((i) => !parents.has(bytesToHex(i.prevout.hash))));
}

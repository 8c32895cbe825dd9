// The script-execution cache (Bitcoin Core's m_script_execution_cache): transactions whose input
// scripts all passed, with the flags they passed under, filled on mempool entry, so connecting
// the block that confirms them skips the work. Keyed by the transaction id: before SegWit a txid
// commits to the scriptSigs, and each outpoint names one output forever, so the id fixes every
// script that ran (Core keys by wtxid, which equals the txid here).
// A hit needs the cached flags to include the block's: every script flag only adds ways to fail
// (each is a soft fork or a policy tightening), so scripts that passed under more flags pass
// under fewer. Bounded; the oldest entries go first (Core sizes its cache in bytes instead).
import { BoundedMap } from '../primitives/bounded.js';
import { bytesToHex } from '../primitives/bytes.js';

/** A txid in internal byte order, as bytes or as their hex (Tx.txidKey). */
export type TxidKey = Uint8Array | string;

const keyOf = (txid: TxidKey): string => (typeof txid === 'string' ? txid : bytesToHex(txid));

export class ScriptExecCache {
  private readonly map: BoundedMap<string, number>;
  constructor(maxEntries = 100_000) {
    this.map = new BoundedMap(Math.max(0, Math.floor(maxEntries)));
  }

  /** Records that every input script of `txid` passed under `flags`. */
  add(txid: TxidKey, flags: number): void {
    const k = keyOf(txid);
    const old = this.map.get(k);
    if (old !== undefined) {
      if ((old & flags) === flags) return;
      this.map.delete(k); // the new flags count as a new entry
    }
    this.map.set(k, flags);
  }

  /** Whether the scripts of `txid` passed under (at least) `flags`. */
  has(txid: TxidKey, flags: number): boolean {
    return this.covers(keyOf(txid), flags);
  }

  /** Like has; a hit is removed (a confirmed transaction will not be checked again). */
  take(txid: TxidKey, flags: number): boolean {
    const k = keyOf(txid);
    if (!this.covers(k, flags)) return false;
    this.map.delete(k);
    return true;
  }

  private covers(k: string, flags: number): boolean {
    const f = this.map.get(k);
    return f !== undefined && (f & flags) === flags;
  }

  get size(): number {
    return this.map.size;
  }
}

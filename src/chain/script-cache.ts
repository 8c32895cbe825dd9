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

export class ScriptExecCache {
  private readonly map: BoundedMap<string, number>;
  constructor(maxEntries = 100_000) {
    this.map = new BoundedMap(Math.max(0, Math.floor(maxEntries)));
  }

  /** Records that every input script of `txid` passed under `flags`. */
  add(txid: Uint8Array, flags: number): void {
    const k = bytesToHex(txid);
    const old = this.map.get(k);
    if (old !== undefined) {
      if ((old & flags) === flags) return;
      this.map.delete(k); // the new flags count as a new entry
    }
    this.map.set(k, flags);
  }

  /** Whether the scripts of `txid` passed under (at least) `flags`. */
  has(txid: Uint8Array, flags: number): boolean {
    const f = this.map.get(bytesToHex(txid));
    return f !== undefined && (f & flags) === flags;
  }

  /** Like has; a hit is removed (a confirmed transaction will not be checked again). */
  take(txid: Uint8Array, flags: number): boolean {
    if (!this.has(txid, flags)) return false;
    this.map.delete(bytesToHex(txid));
    return true;
  }

  get size(): number {
    return this.map.size;
  }
}

// The script-execution cache: (txid, flags) of transactions whose scripts already passed in full,
// typically on mempool entry, so connecting the block that confirms them can skip the work.
// A txid fixes the outputs it spends (an outpoint names one output forever), so the pair is enough.
// Bounded; the oldest entries go first.
import { bytesToHex } from '../primitives/bytes.js';

export class ScriptExecCache {
  private readonly set = new Set<string>();
  constructor(private readonly maxEntries = 100_000) {}

  private key(txid: Uint8Array, flags: number): string {
    return bytesToHex(txid) + ':' + flags;
  }

  add(txid: Uint8Array, flags: number): void {
    if (this.maxEntries <= 0) return;
    const k = this.key(txid, flags);
    if (this.set.has(k)) return;
    if (this.set.size >= this.maxEntries) this.set.delete(this.set.values().next().value!);
    this.set.add(k);
  }

  has(txid: Uint8Array, flags: number): boolean {
    return this.set.has(this.key(txid, flags));
  }

  /** Whether the pair was cached; removes it (a confirmed transaction will not be checked again). */
  take(txid: Uint8Array, flags: number): boolean {
    return this.set.delete(this.key(txid, flags));
  }

  get size(): number {
    return this.set.size;
  }
}

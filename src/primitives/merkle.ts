// Bitcoin's merkle root: pairs hashed with double SHA-256, an odd last node paired with itself.
// Also reports whether two identical siblings were hashed together anywhere in the tree, which
// is how Bitcoin Core detects the CVE-2012-2459 mutation (a duplicated tail of transactions
// giving the same root as the honest block).
import { sha256d } from '../crypto/hash.js';
import { equalBytes } from './bytes.js';

export function computeMerkleRoot(leaves: readonly Uint8Array[]): { root: Uint8Array; mutated: boolean } {
  if (leaves.length === 0) return { root: new Uint8Array(32), mutated: false };
  let level = leaves.slice();
  let mutated = false;
  const buf = new Uint8Array(64);
  while (level.length > 1) {
    const next: Uint8Array[] = [];
    for (let i = 0; i < level.length; i += 2) {
      const a = level[i];
      const b = i + 1 < level.length ? level[i + 1] : a;
      if (i + 1 < level.length && equalBytes(a, b)) mutated = true;
      buf.set(a, 0);
      buf.set(b, 32);
      next.push(sha256d(buf));
    }
    level = next;
  }
  return { root: level[0], mutated };
}

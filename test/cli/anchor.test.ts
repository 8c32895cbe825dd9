// The anchor tree (docs/anchor.md): one file is its own root; for 1..40 files every file's path
// folds to the root, the root matches the rule computed here from scratch (parent =
// SHA-256(0x01 || left || right), odd last node moved up unchanged), and a changed file, another
// position or a duplicated tail gives another root.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { anchorTree, foldPath } from '../../src/cli/anchor.js';

const sha = (...parts: Uint8Array[]) =>
  new Uint8Array(createHash('sha256').update(Buffer.concat(parts)).digest());
const leaf = (i: number) => sha(Buffer.from(`file ${i}`));

function rootByRule(level: Uint8Array[]): Uint8Array {
  while (level.length > 1) {
    const next: Uint8Array[] = [];
    for (let i = 0; i < level.length; i += 2)
      next.push(i + 1 < level.length ? sha(Uint8Array.of(1), level[i], level[i + 1]) : level[i]);
    level = next;
  }
  return level[0];
}

test('anchor tree: paths fold to the root of the documented rule', () => {
  const one = leaf(0);
  assert.deepEqual(anchorTree([one]), { root: one, paths: [[]] });
  for (let n = 1; n <= 40; n++) {
    const leaves = Array.from({ length: n }, (_, i) => leaf(i));
    const { root, paths } = anchorTree(leaves);
    assert.deepEqual(root, rootByRule(leaves), `n=${n}`);
    leaves.forEach((l, i) => assert.deepEqual(foldPath(l, paths[i]), root, `n=${n} i=${i}`));
    // A path does not fit another file, nor the same file at another position.
    if (n > 1) {
      assert.notDeepEqual(foldPath(leaf(99), paths[0]), root);
      assert.notDeepEqual(foldPath(leaves[0], paths[1]), root);
    }
  }
  // Unlike Bitcoin's merkle root, repeating the odd last file changes the root.
  const three = [leaf(1), leaf(2), leaf(3)];
  assert.notDeepEqual(anchorTree(three).root, anchorTree([...three, leaf(3)]).root);
});

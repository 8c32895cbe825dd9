// gettxoutproof and verifytxoutproof against one real `tally node`, as Core's rpc_txoutproof.py:
// a block of 42 transactions and proofs of one and of several txids, each checked by
// verifytxoutproof and by a merkle check written here from Bitcoin's rules alone (node:crypto,
// nothing from src/): the expected proof bytes built from getblock's txids, each matched txid's
// branch folded to the header's merkle root, and the proof's own tree walked to that root.
// Core's errors: -8 for empty, malformed or duplicated txids, -5 for a transaction in no block
// (in the pool, or fully spent without txindex), an unknown block, txids of different blocks and
// a block off the best chain; [] for the "inner node as a one-transaction block" tweak; -1 for a
// proof that does not decode. With txindex the fully spent transaction is found.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { startNode, stopAll, waitFor, rpcFails as fails } from './cluster.js';

after(stopAll);

// ---- An independent reading of Bitcoin's merkle rules (internal byte order throughout). ----
const dsha = (b: Buffer) => createHash('sha256').update(createHash('sha256').update(b).digest()).digest();
const internal = (hex: string) => Buffer.from(hex, 'hex').reverse();
const display = (b: Buffer) => Buffer.from(b).reverse().toString('hex');

/** Every level of the tree, leaves first, an odd last node paired with itself. */
function levels(leaves: Buffer[]): Buffer[][] {
  const out = [leaves];
  while (out[out.length - 1].length > 1) {
    const prev = out[out.length - 1];
    const next: Buffer[] = [];
    for (let i = 0; i < prev.length; i += 2)
      next.push(dsha(Buffer.concat([prev[i], prev[i + 1] ?? prev[i]])));
    out.push(next);
  }
  return out;
}

function compact(n: number): Buffer {
  if (n < 0xfd) return Buffer.from([n]);
  const b = Buffer.alloc(3);
  b[0] = 0xfd;
  b.writeUInt16LE(n, 1);
  return b;
}

/** The bytes a proof of `matched` must have: header, count, hashes, flag bytes (BIP37's layout). */
function expectedProof(header: Buffer, txids: Buffer[], matched: Set<number>): Buffer {
  const tree = levels(txids);
  const top = tree.length - 1;
  const hashes: Buffer[] = [];
  const flags: number[] = [];
  const covers = (h: number, pos: number) => [...matched].some((i) => i >> h === pos);
  const visit = (h: number, pos: number) => {
    const hit = covers(h, pos);
    flags.push(hit ? 1 : 0);
    if (h === 0 || !hit) return void hashes.push(tree[h][pos]);
    visit(h - 1, 2 * pos);
    if (2 * pos + 1 < tree[h - 1].length) visit(h - 1, 2 * pos + 1);
  };
  visit(top, 0);
  const flagBytes = Buffer.alloc(Math.ceil(flags.length / 8));
  flags.forEach((f, i) => (flagBytes[i >> 3] |= f << (i & 7)));
  const count = Buffer.alloc(4);
  count.writeUInt32LE(txids.length);
  return Buffer.concat([
    header,
    count,
    compact(hashes.length),
    ...hashes,
    compact(flagBytes.length),
    flagBytes,
  ]);
}

/** A proof read back: its header's merkle root, and the root and leaves its tree walks to. */
function walkProof(hex: string): { headerRoot: Buffer; root: Buffer; leaves: [number, Buffer][]; n: number } {
  const b = Buffer.from(hex, 'hex');
  let at = 80;
  const n = b.readUInt32LE(at);
  at += 4;
  const readCompact = () => (b[at] < 0xfd ? b[at++] : ((at += 3), b.readUInt16LE(at - 2)));
  const hashes = Array.from({ length: readCompact() }, () => ((at += 32), b.subarray(at - 32, at)));
  const flagBytes = b.subarray(at + 1, at + 1 + readCompact());
  let bit = 0;
  let used = 0;
  const leaves: [number, Buffer][] = [];
  const width = (h: number) => Math.ceil(n / 2 ** h);
  const walk = (h: number, pos: number): Buffer => {
    const hit = (flagBytes[bit >> 3] >> (bit & 7)) & 1;
    bit++;
    if (h === 0 || !hit) {
      const hash = hashes[used++];
      if (h === 0 && hit) leaves.push([pos, hash]);
      return hash;
    }
    const left = walk(h - 1, 2 * pos);
    const right = 2 * pos + 1 < width(h - 1) ? walk(h - 1, 2 * pos + 1) : left;
    return dsha(Buffer.concat([left, right]));
  };
  let top = 0;
  while (width(top) > 1) top++;
  const root = walk(top, 0);
  assert.equal(used, hashes.length, 'every hash used');
  return { headerRoot: b.subarray(36, 68), root, leaves, n };
}

/** The root reached from leaf i by its branch (sibling at each level). */
function foldBranch(tree: Buffer[][], i: number): Buffer {
  let h = tree[0][i];
  for (let lvl = 0; lvl < tree.length - 1; lvl++, i >>= 1) {
    const sib = tree[lvl][i ^ 1] ?? tree[lvl][i];
    h = dsha(i & 1 ? Buffer.concat([sib, h]) : Buffer.concat([h, sib]));
  }
  return h;
}

test('gettxoutproof and verifytxoutproof against a real node', async () => {
  const n = await startNode();
  await n.rpc('createwallet', ['w']);
  const addr = await n.rpc<string>('getnewaddress');
  const other = await n.rpc<string>('getnewaddress');
  const hashes = await n.rpc<string[]>('generatetoaddress', [150, addr]);
  const cb1 = (await n.rpc<{ tx: string[] }>('getblock', [hashes[0]])).tx[0];

  // 40 confirmed coins, each spent alone below (the wallet would chain its change past 25).
  // Block 1's coinbase is kept out of the funding: among the 50 mature coinbases of equal value
  // the wallet takes the one of lowest outpoint, which was block 1's in about one run of 50.
  await n.rpc('lockunspent', [false, [{ txid: cb1, vout: 0 }]]);
  const owned = await Promise.all(Array.from({ length: 40 }, () => n.rpc<string>('getnewaddress')));
  const fan = await n.rpc<string>('sendmany', ['', Object.fromEntries(owned.map((a) => [a, 1]))]);
  await n.rpc('lockunspent', [true, [{ txid: cb1, vout: 0 }]]);
  await n.rpc('generatetoaddress', [1, addr]);
  const fanOut = await n.rpc<{ vout: { n: number; scriptPubKey: { address: string } }[] }>(
    'getrawtransaction',
    [fan, 1, await n.rpc<string>('getbestblockhash')],
  );
  const spendOne = async (txid: string, vout: number, amount: number) => {
    const raw = await n.rpc<string>('createrawtransaction', [[{ txid, vout }], { [other]: amount }]);
    const signed = await n.rpc<{ hex: string }>('signrawtransactionwithwallet', [raw]);
    return n.rpc<string>('sendrawtransaction', [signed.hex]);
  };
  // Spend block 1's only output, so its coinbase has no unspent output left.
  const spend = await spendOne(cb1, 0, 49.999);
  const sent: string[] = [];
  for (const o of fanOut.vout.filter((v) => owned.includes(v.scriptPubKey.address)))
    sent.push(await spendOne(fan, o.n, 0.999));
  await assert.rejects(n.rpc('gettxoutproof', [[sent[0]]]), fails(-5, /^Transaction not yet in block$/));
  const [big] = await n.rpc<string[]>('generatetoaddress', [1, addr]);
  const block = await n.rpc<{ tx: string[]; merkleroot: string }>('getblock', [big]);
  assert.equal(block.tx.length, 42);
  const header = Buffer.from(await n.rpc<string>('getblockheader', [big, false]), 'hex');
  const txids = block.tx.map(internal);
  const tree = levels(txids);
  assert.equal(display(tree[tree.length - 1][0]), block.merkleroot);

  // One txid, several, the coinbase, the last (an odd tail), and all of them.
  const picks = [[sent[7]], [sent[3], sent[20], sent[39], block.tx[0]], [block.tx[41]], block.tx];
  for (const pick of picks) {
    const proof = await n.rpc<string>('gettxoutproof', [pick]);
    const positions = new Set(pick.map((t) => block.tx.indexOf(t)));
    assert.equal(proof, expectedProof(header, txids, positions).toString('hex'), 'Core’s bytes');
    const walked = walkProof(proof);
    assert.equal(walked.n, 42);
    assert.ok(walked.root.equals(walked.headerRoot) && display(walked.root) === block.merkleroot);
    assert.deepEqual(
      walked.leaves.map(([i, h]) => [i, display(h)]),
      [...positions].sort((a, b) => a - b).map((i) => [i, block.tx[i]]),
    );
    for (const i of positions) assert.equal(display(foldBranch(tree, i)), block.merkleroot);
    const verified = await n.rpc<string[]>('verifytxoutproof', [proof]);
    assert.deepEqual([...verified].sort(), [...pick].sort());
    // The block hash given explicitly gives the same proof.
    assert.equal(await n.rpc('gettxoutproof', [pick, big]), proof);
  }

  // Found by an unspent output: the spend (in the big block) but not block 1's spent coinbase.
  assert.ok(block.tx.includes(spend));
  await assert.rejects(n.rpc('gettxoutproof', [[cb1]]), fails(-5, /^Transaction not yet in block$/));
  const cbProof = await n.rpc<string>('gettxoutproof', [[cb1], hashes[0]]);
  assert.deepEqual(await n.rpc('verifytxoutproof', [cbProof]), [cb1]);
  await assert.rejects(
    n.rpc('gettxoutproof', [[cb1, spend]]),
    fails(-5, /^Not all transactions found in specified or retrieved block$/),
  );
  await assert.rejects(
    n.rpc('gettxoutproof', [[sent[0]], hashes[5]]),
    fails(-5, /Not all transactions found/),
  );
  await assert.rejects(n.rpc('gettxoutproof', [[sent[0]], '00'.repeat(32)]), fails(-5, /^Block not found$/));
  await assert.rejects(n.rpc('gettxoutproof', [[]]), fails(-8, /Parameter 'txids' cannot be empty/));
  await assert.rejects(
    n.rpc('gettxoutproof', [['00'.repeat(16)]]),
    fails(-8, /txid must be of length 64 \(not 32/),
  );
  await assert.rejects(
    n.rpc('gettxoutproof', [['zz'.repeat(32)]]),
    fails(-8, /txid must be hexadecimal string/),
  );
  await assert.rejects(n.rpc('gettxoutproof', [[sent[1], sent[1]]]), fails(-8, /duplicated txid/));
  await assert.rejects(n.rpc('gettxoutproof', []), fails(-1, /gettxoutproof/));

  // Core's tweak: the root passed off as the only transaction of a one-transaction block.
  const proof = await n.rpc<string>('gettxoutproof', [[sent[5]]]);
  const tweak = Buffer.concat([
    header,
    Buffer.from([1, 0, 0, 0, 1]),
    header.subarray(36, 68),
    Buffer.from([1, 1]),
  ]);
  assert.deepEqual(await n.rpc('verifytxoutproof', [tweak.toString('hex')]), []);
  // A proof whose hashes were changed no longer reaches the header's root.
  const flipped = Buffer.from(proof, 'hex');
  flipped[90] ^= 1;
  assert.deepEqual(await n.rpc('verifytxoutproof', [flipped.toString('hex')]), []);
  await assert.rejects(n.rpc('verifytxoutproof', [proof.slice(0, 170)]), fails(-1, /Invalid proof/));
  await assert.rejects(n.rpc('verifytxoutproof', ['xyz']), fails(-8, /proof must be hexadecimal string/));

  // Off the best chain the block is not found; back on it the proof holds again.
  await n.rpc('invalidateblock', [big]);
  await assert.rejects(n.rpc('verifytxoutproof', [proof]), fails(-5, /^Block not found in chain$/));
  await n.rpc('reconsiderblock', [big]);
  assert.deepEqual(await n.rpc('verifytxoutproof', [proof]), [sent[5]]);

  // With txindex, a fully spent transaction is found without its block.
  await n.restart(['--txindex']);
  await waitFor(
    async () => (await n.rpc<Record<string, { synced: boolean }>>('getindexinfo')).txindex?.synced === true,
    30_000,
    'txindex synced',
  );
  assert.equal(await n.rpc('gettxoutproof', [[cb1]]), cbProof);
  await assert.rejects(
    n.rpc('gettxoutproof', [['11'.repeat(32)]]),
    fails(-5, /^Transaction not yet in block$/),
  );
});

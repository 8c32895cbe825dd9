// ScriptVerifyPool: inline and worker modes agree (the calling thread verifying a share beside the
// workers), a bad input is named, the earliest of several failures is the one reported wherever
// it was found, and a sig cache filled on mempool entry settles a block's jobs without the workers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ScriptVerifyPool, type ScriptCheck } from '../../src/chain/verify-pool.js';
import { ScriptFlags as F } from '../../src/script/flags.js';
import { verifyInput } from '../../src/script/interpreter.js';
import { SigCache } from '../../src/script/sigcache.js';
import { block277647 } from '../conformance/spends.js';

const FLAGS = F.P2SH | F.DERSIG;

function jobsOf(n: number): ScriptCheck[] {
  const { spends } = block277647();
  return spends.slice(0, n).map((s, k) => ({
    index: k + 1,
    tx: s.tx,
    prevouts: s.prevouts.map((p) => ({ value: p.value, script: p.scriptPubKey })),
    flags: FLAGS,
  }));
}

test('inline and 2-worker pools verify a block slice and name the failing input', async () => {
  const jobs = jobsOf(40);
  // Swap two prevouts of a multi-input tx: its signatures no longer match.
  const k = jobs.findIndex((j) => j.prevouts.length > 1);
  const broken = jobs.map((j) => ({ ...j, prevouts: [...j.prevouts] }));
  [broken[k].prevouts[0], broken[k].prevouts[1]] = [broken[k].prevouts[1], broken[k].prevouts[0]];
  for (const threads of [0, 2]) {
    const pool = ScriptVerifyPool.create({ threads });
    try {
      assert.equal(pool.threads, threads);
      assert.equal(await pool.verify(jobs), null);
      const f = await pool.verify(broken);
      assert.ok(f);
      assert.equal(f.index, broken[k].index);
      assert.equal(f.input, 0);
      assert.equal(f.code, 'EQUALVERIFY');
    } finally {
      await pool.close();
    }
  }
});

test('a sig cache filled on mempool entry settles jobs on the calling thread', async () => {
  const { spends } = block277647();
  const cache = new SigCache();
  for (const { tx, prevouts } of spends.slice(0, 10)) {
    for (let i = 0; i < tx.inputs.length; i++) verifyInput(tx, i, prevouts[i], FLAGS, cache);
  }
  const hits = cache.hits;
  const pool = ScriptVerifyPool.create({ threads: 1, sigCache: cache });
  try {
    assert.equal(await pool.verify(jobsOf(10)), null);
    const inputs = spends.slice(0, 10).reduce((n, s) => n + s.tx.inputs.length, 0);
    assert.equal(cache.hits - hits, inputs);
  } finally {
    await pool.close();
  }
});

/** Jobs with the signatures of every multi-input tx at `at` broken (two prevouts swapped). */
function breakAt(jobs: ScriptCheck[], at: number[]): ScriptCheck[] {
  return jobs.map((j, k) => {
    if (!at.includes(k)) return j;
    const prevouts = [...j.prevouts];
    [prevouts[0], prevouts[1]] = [prevouts[1], prevouts[0]];
    return { ...j, prevouts };
  });
}

test('with the calling thread joining the workers the earliest failure wins, first, middle or last', async () => {
  const jobs = jobsOf(60);
  const multi = jobs.map((j, k) => (j.prevouts.length > 1 ? k : -1)).filter((k) => k >= 0);
  assert.ok(multi.length >= 3, 'the block slice has several multi-input transactions');
  const first = multi[0];
  const mid = multi[Math.floor(multi.length / 2)];
  const last = multi[multi.length - 1];
  const cases: [number[], number][] = [
    [[last], last], // found by whoever verifies the end of the block (the calling thread here)
    [[mid, last], mid],
    [[first, mid, last], first],
  ];
  for (const threads of [0, 1, 2]) {
    const pool = ScriptVerifyPool.create({ threads });
    try {
      for (const [at, want] of cases) {
        const run = pool.begin();
        for (const c of breakAt(jobs, at)) run.add(c);
        const f = await run.finish();
        assert.deepEqual(f, { index: jobs[want].index, input: 0, code: 'EQUALVERIFY' }, `threads ${threads}`);
      }
      assert.equal(await pool.verify(jobs), null);
    } finally {
      await pool.close();
    }
  }
});

test('a pool closed at once terminates its workers only after each has loaded (secp256k1 aborts the process otherwise)', async () => {
  for (let round = 0; round < 3; round++) {
    const pool = ScriptVerifyPool.create({ threads: 2 });
    // A node stopped right after it started: no block was ever verified.
    await pool.close();
    assert.equal(pool.loadedWorkers, 2, 'every worker had finished loading before it was terminated');
  }
});

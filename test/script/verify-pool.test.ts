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

/** Blocks this thread (no event loop turn) until `ready()` or `ms` pass. */
function blockUntil(ready: () => boolean, ms: number): void {
  const nap = new Int32Array(new SharedArrayBuffer(4));
  const until = performance.now() + ms;
  while (!ready() && performance.now() < until) Atomics.wait(nap, 0, 0, 5);
}

/** A pool whose workers have all loaded, so a run's tasks reach them at once. */
async function readyPool(
  threads: number,
  arena?: { bytes: number; jobs: number },
): Promise<ScriptVerifyPool> {
  const pool = ScriptVerifyPool.create({ threads, arena });
  await pool.verify(jobsOf(4));
  return pool;
}

test('workers take every job while the calling thread is still adding, with no event loop turn (Core: workers pull from the queue)', async () => {
  const jobs = jobsOf(60);
  const pool = await readyPool(2);
  try {
    const run = pool.begin();
    for (const c of jobs) run.add(c);
    // The connecting thread is busy (a block's walk is synchronous): the workers go on alone.
    blockUntil(() => run.workerJobs === jobs.length, 10_000);
    assert.equal(run.workersJoined, 2, 'both workers joined the run');
    assert.equal(run.workerJobs, jobs.length, 'the workers took every job before finish()');
    assert.equal(await run.finish(), null);
  } finally {
    await pool.close();
  }
});

test('a run left unfinished (its block failed another rule) is abandoned by the next, whose verdicts stand', async () => {
  const jobs = jobsOf(60);
  const k = jobs.findIndex((j) => j.prevouts.length > 1);
  const pool = await readyPool(2);
  try {
    for (let round = 0; round < 5; round++) {
      const left = pool.begin();
      for (const c of breakAt(jobs, [k])) left.add(c);
      // Never finished: begin() stops its workers and gives the next run memory of its own.
      const run = pool.begin();
      for (const c of jobs) run.add(c);
      assert.equal(await run.finish(), null);
      assert.deepEqual(await pool.verify(breakAt(jobs, [k])), {
        index: jobs[k].index,
        input: 0,
        code: 'EQUALVERIFY',
      });
    }
  } finally {
    await pool.close();
  }
});

test('sealed runs are served in order while the next is added: each keeps its own verdict (the walk of the next block)', async () => {
  const jobs = jobsOf(60);
  const multi = jobs.map((j, k) => (j.prevouts.length > 1 ? k : -1)).filter((k) => k >= 0);
  const bad = multi[multi.length - 1];
  const want = { index: jobs[bad].index, input: 0, code: 'EQUALVERIFY' };
  for (const threads of [0, 1, 2]) {
    const pool = await readyPool(threads);
    try {
      for (const [aBad, bBad] of [
        [false, false],
        [true, false],
        [false, true],
        [true, true],
      ]) {
        const a = pool.begin();
        for (const c of aBad ? breakAt(jobs, [bad]) : jobs) a.add(c);
        a.seal();
        assert.throws(() => a.add(jobs[0]), /sealed/);
        const b = pool.begin();
        for (const c of bBad ? breakAt(jobs, [bad]) : jobs) b.add(c);
        b.seal();
        if (threads > 0) {
          // With this thread busy, the workers finish the first run and go on to the second alone.
          blockUntil(() => b.workerJobs === jobs.length, 10_000);
          assert.equal(a.workerJobs, jobs.length);
          assert.equal(b.workerJobs, jobs.length);
        }
        assert.deepEqual(await a.finish(), aBad ? want : null, `threads ${threads}`);
        assert.deepEqual(await b.finish(), bBad ? want : null, `threads ${threads}`);
      }
    } finally {
      await pool.close();
    }
  }
});

test('checks beyond the shared memory are verified on the calling thread, and the next run gets more room', async () => {
  const jobs = jobsOf(60);
  const multi = jobs.map((j, k) => (j.prevouts.length > 1 ? k : -1)).filter((k) => k >= 0);
  const first = multi[0];
  const last = multi[multi.length - 1];
  // Room for about ten jobs.
  const pool = await readyPool(1, { bytes: 4096, jobs: 10 });
  try {
    for (const [at, want] of [
      [[last], last], // in the overflow
      [[first, last], first], // in shared memory, with a later one in the overflow
    ] as [number[], number][]) {
      const run = pool.begin();
      for (const c of breakAt(jobs, at)) run.add(c);
      const spilled = run.overflowed;
      assert.deepEqual(await run.finish(), { index: jobs[want].index, input: 0, code: 'EQUALVERIFY' });
      assert.ok(spilled > 0 || at.length > 1, 'the first run overflowed');
    }
    // The arena doubles after each run that outgrew it: it soon holds the whole list.
    let spilled = Infinity;
    for (let round = 0; round < 8 && spilled > 0; round++) {
      const run = pool.begin();
      for (const c of jobs) run.add(c);
      spilled = run.overflowed;
      assert.equal(await run.finish(), null);
    }
    assert.equal(spilled, 0);
  } finally {
    await pool.close();
  }
});

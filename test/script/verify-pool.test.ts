// ScriptVerifyPool: inline and worker modes agree, a bad input is named, and a sig cache filled
// on mempool entry settles a block's jobs without the workers.
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

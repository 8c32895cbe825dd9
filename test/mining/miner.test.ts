// The worker pool: regtest-difficulty headers mined on several threads meet their target, abort
// stops every thread within one chunk of hashes, exhausted ranges hand control back for an extra-nonce/time roll.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sha256d } from '../../src/crypto/hash.js';
import { DEFAULT_CHUNK, Miner, type FoundHeader, type WorkReason } from '../../src/mining/miner.js';
import { KERNELS } from '../../src/mining/hasher.js';

const REGTEST_TARGET = 0x7fffffn << 232n; // bits 0x207fffff
const IMPOSSIBLE = 0n;

function hashValue(hash: Uint8Array): bigint {
  return BigInt('0x' + Buffer.from(hash).reverse().toString('hex'));
}

function header(seed: number): Uint8Array {
  return Uint8Array.from({ length: 80 }, (_, i) => (i * 29 + seed * 97 + 3) & 0xff);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

for (const kernel of KERNELS) {
  test(`${kernel}: mines regtest headers on 2 threads, each hash <= target`, async () => {
    const miner = Miner.create({ threads: 2, kernel });
    try {
      assert.equal(miner.kernel, kernel);
      for (let i = 0; i < 12; i++) {
        const h = header(i);
        // Half the range each: the second thread's slice starts at 2^31.
        const found = await miner.search({ header: h, target: REGTEST_TARGET });
        assert.ok(found);
        assert.deepEqual(found.header.subarray(0, 76), h.subarray(0, 76));
        assert.equal(new DataView(found.header.buffer).getUint32(76, true), found.nonce);
        assert.deepEqual(found.hash, sha256d(found.header));
        assert.ok(hashValue(found.hash) <= REGTEST_TARGET);
      }
      // A harder target (1/65536 of hashes) still found by the pool, inside a sub-range.
      const hard = 0xffffn << 224n;
      const found = await miner.search({
        header: header(99),
        target: hard,
        startNonce: 1000,
        endNonce: 4_000_000,
      });
      assert.ok(found && found.nonce >= 1000 && found.nonce < 4_000_000);
      assert.ok(hashValue(sha256d(found.header)) <= hard);
    } finally {
      await miner.close();
    }
  });

  test(`${kernel}: abort() stops every thread's search within one chunk of hashes`, async (t) => {
    const THREADS = 2;
    const miner = Miner.create({ threads: THREADS, kernel });
    try {
      await miner.ready();
      const timings: number[] = [];
      const after: number[] = [];
      for (let i = 0; i < 5; i++) {
        const search = miner.search({ header: header(i), target: IMPOSSIBLE });
        await sleep(150);
        const t0 = performance.now();
        miner.abort();
        const atAbort = miner.hashes;
        assert.equal(await search, null);
        timings.push(performance.now() - t0);
        after.push(miner.hashes - atAbort);
      }
      // Each thread looks at the abort word before every chunk (at most DEFAULT_CHUNK nonces,
      // ~4 ms of hashing), so after abort() it finishes the chunk it is in and no more: counted in
      // hashes, which the OS's scheduling does not change. The time it takes is reported only:
      // beside two CPU burners at load 13, threads kept off the 2 cores took 130-360 ms.
      const report =
        `abort to all threads returned: ${timings.map((x) => x.toFixed(1)).join(', ')} ms; ` +
        `hashes after abort: ${after.join(', ')}`;
      t.diagnostic(report);
      assert.ok(
        after.every((n) => n <= THREADS * DEFAULT_CHUNK),
        report,
      );
      assert.ok(miner.hashrate > 0);
    } finally {
      await miner.close();
    }
  });
}

test('a new search supersedes the running one, which resolves aborted', async () => {
  const miner = Miner.create({ threads: 2 });
  try {
    const first = miner.searchOutcome({ header: header(1), target: IMPOSSIBLE });
    await sleep(50);
    const second = await miner.searchOutcome({ header: header(2), target: REGTEST_TARGET });
    assert.equal(second.status, 'found');
    assert.deepEqual(await first, { status: 'aborted' });
  } finally {
    await miner.close();
  }
});

test('mine(): exhausted range asks for rolled work, finds go to onFound, null stops', async () => {
  const miner = Miner.create({ threads: 2 });
  const reasons: WorkReason[] = [];
  const found: FoundHeader[] = [];
  try {
    let time = 1_700_000_000;
    const n = await miner.mine(
      (reason) => {
        reasons.push(reason);
        if (found.length === 3) return null;
        // First a range with no solution: the caller is told it is exhausted and rolls the time.
        if (reason !== 'start') time++;
        const h = header(7);
        new DataView(h.buffer).setUint32(68, time, true);
        if (reason === 'start') return { header: h, target: IMPOSSIBLE, endNonce: 50_000 };
        return { header: h, target: REGTEST_TARGET };
      },
      (f) => {
        found.push(f);
      },
    );
    assert.equal(n, 3);
    assert.deepEqual(reasons, ['start', 'exhausted', 'found', 'found', 'found']);
    const times = found.map((f) => new DataView(f.header.buffer).getUint32(68, true));
    assert.deepEqual(times, [1_700_000_001, 1_700_000_002, 1_700_000_003]);
    for (const f of found) assert.ok(hashValue(sha256d(f.header)) <= REGTEST_TARGET);
    assert.ok(miner.hashes >= 50_000);
  } finally {
    await miner.close();
  }
});

test('mine() stops when its signal aborts', async () => {
  const miner = Miner.create({ threads: 2 });
  try {
    const ac = new AbortController();
    const done = miner.mine(
      () => ({ header: header(3), target: IMPOSSIBLE }),
      () => undefined,
      { signal: ac.signal },
    );
    await sleep(100);
    ac.abort();
    assert.equal(await done, 0);
  } finally {
    await miner.close();
  }
});

test('bad jobs and options are RangeErrors', async () => {
  assert.throws(() => Miner.create({ threads: 0 }), RangeError);
  assert.throws(() => Miner.create({ kernel: 'gpu' as 'js' }), RangeError);
  const miner = Miner.create({ threads: 1 });
  try {
    await assert.rejects(miner.search({ header: new Uint8Array(79), target: 1n }), RangeError);
    await assert.rejects(miner.search({ header: header(0), target: -1n }), RangeError);
    await assert.rejects(
      miner.search({ header: header(0), target: 1n, startNonce: 5, endNonce: 4 }),
      RangeError,
    );
    await assert.rejects(miner.search({ header: header(0), target: 1n, endNonce: 2 ** 32 + 1 }), RangeError);
    assert.equal(
      await miner.search({ header: header(0), target: REGTEST_TARGET, startNonce: 9, endNonce: 9 }),
      null,
    );
  } finally {
    await miner.close();
  }
});

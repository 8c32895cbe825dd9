// The job records the verify pool writes to shared memory for its workers (writeJob / readJobs):
// every list of jobs comes back as it went in, and any other bytes are a DecodeError, never a
// crash or a wrong job.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DecodeError } from '../../src/primitives/bytes.js';
import { jobSize, readJobs, writeJob, type VerifyJob } from '../../src/chain/verify-worker.js';

const job: fc.Arbitrary<VerifyJob> = fc.record({
  index: fc.nat({ max: 0xffffffff }),
  tx: fc.uint8Array({ maxLength: 300 }),
  prevouts: fc.array(
    fc.record({
      value: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
      script: fc.uint8Array({ maxLength: 80 }),
    }),
    { maxLength: 5 },
  ),
  flags: fc.nat({ max: 0xffffffff }),
});

/** The jobs written back to back into shared memory, as the pool writes them. */
function pack(jobs: readonly VerifyJob[]): Uint8Array {
  const size = jobs.reduce((n, j) => n + jobSize(j.tx.length, j.prevouts), 0);
  const bytes = new Uint8Array(new SharedArrayBuffer(size));
  const view = new DataView(bytes.buffer);
  let at = 0;
  for (const j of jobs) {
    const end = writeJob(bytes, view, at, j);
    assert.equal(end - at, jobSize(j.tx.length, j.prevouts), 'a record is as long as jobSize says');
    at = end;
  }
  assert.equal(at, size);
  // A worker copies its batch out of shared memory before reading it.
  return bytes.slice();
}

test('jobs written and read back come back as they went in', () => {
  fc.assert(
    fc.property(fc.array(job, { maxLength: 20 }), (jobs) => {
      // (fast-check's records have no prototype; the read jobs are plain objects.)
      const plain = jobs.map((j) => ({ ...j, prevouts: j.prevouts.map((p) => ({ ...p })) }));
      assert.deepEqual(readJobs(pack(jobs)), plain);
    }),
    { numRuns: 300 },
  );
});

test('truncated, extended and random bytes are a DecodeError', () => {
  fc.assert(
    fc.property(fc.array(job, { minLength: 1, maxLength: 5 }), fc.nat(), fc.nat(), (jobs, cut, extra) => {
      const packed = pack(jobs);
      const short = packed.subarray(0, cut % packed.length);
      // Cut inside the first record, or anywhere: never the whole of the last record.
      if (cut % packed.length > 0) {
        const whole = readJobsOrNull(short);
        if (whole) assert.ok(whole.length < jobs.length, 'a cut list reads as fewer jobs or not at all');
      } else assert.deepEqual(readJobs(short), []);
      const long = new Uint8Array(packed.length + 1 + (extra % 15));
      long.set(packed);
      assert.throws(() => readJobs(long), DecodeError, 'fewer than 16 stray bytes are no record');
    }),
    { numRuns: 300 },
  );
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), (junk) => {
      try {
        const jobs = readJobs(junk);
        assert.deepEqual(pack(jobs), junk, 'whatever reads writes back to the same bytes');
      } catch (e) {
        assert.ok(e instanceof DecodeError, String(e));
      }
    }),
    { numRuns: 500 },
  );
});

function readJobsOrNull(data: Uint8Array): VerifyJob[] | null {
  try {
    return readJobs(data);
  } catch (e) {
    assert.ok(e instanceof DecodeError, String(e));
    return null;
  }
}

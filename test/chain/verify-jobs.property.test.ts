// The packed form the verify pool hands its workers (encodeJobs / decodeJobs): every list of jobs
// comes back as it went in, and any other bytes are a DecodeError, never a crash or a wrong job.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DecodeError } from '../../src/primitives/bytes.js';
import { decodeJobs, encodeJobs, type VerifyJob } from '../../src/chain/verify-worker.js';

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

test('jobs packed and unpacked come back as they went in', () => {
  fc.assert(
    fc.property(fc.array(job, { maxLength: 20 }), (jobs) => {
      const packed = encodeJobs(jobs);
      // One buffer of its own, exactly as long as the bytes: it is moved to the worker whole.
      assert.equal(packed.byteOffset, 0);
      assert.equal(packed.buffer.byteLength, packed.length);
      // (fast-check's records have no prototype; the decoded jobs are plain objects.)
      const plain = jobs.map((j) => ({ ...j, prevouts: j.prevouts.map((p) => ({ ...p })) }));
      assert.deepEqual(decodeJobs(packed), plain);
    }),
    { numRuns: 300 },
  );
});

test('truncated, extended and random bytes are a DecodeError', () => {
  fc.assert(
    fc.property(fc.array(job, { minLength: 1, maxLength: 5 }), fc.nat(), (jobs, cut) => {
      const packed = encodeJobs(jobs);
      const short = packed.subarray(0, cut % packed.length);
      assert.throws(() => decodeJobs(short), DecodeError);
      const long = new Uint8Array(packed.length + 1);
      long.set(packed);
      assert.throws(() => decodeJobs(long), DecodeError);
    }),
    { numRuns: 300 },
  );
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), (junk) => {
      try {
        const jobs = decodeJobs(junk);
        assert.deepEqual(encodeJobs(jobs), junk, 'whatever decodes re-encodes to the same bytes');
      } catch (e) {
        assert.ok(e instanceof DecodeError, String(e));
      }
    }),
    { numRuns: 500 },
  );
});

// nLockTime finality (IsFinalTx) and BIP113: time locks compare against the previous block's
// median time past once the rule is active, against the block's own time before.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LOCKTIME_THRESHOLD, isFinalTx, lockTimeCutoff } from '../../src/consensus/tx-verify.js';
import { outpoint, spend } from './fixtures.js';

const locked = (locktime: number, sequence = 0) =>
  spend([outpoint(1)], [1n], { locktime, sequences: [sequence] });

test('locktime 0 is always final', () => {
  assert.ok(isFinalTx(locked(0), 0, 0));
});

test('height locks: final once the block height exceeds the lock', () => {
  assert.ok(!isFinalTx(locked(100), 100, 2_000_000_000));
  assert.ok(isFinalTx(locked(100), 101, 0));
  assert.ok(!isFinalTx(locked(LOCKTIME_THRESHOLD - 1), LOCKTIME_THRESHOLD - 1, 2_000_000_000));
});

test('time locks: final once the cutoff time exceeds the lock', () => {
  assert.ok(!isFinalTx(locked(LOCKTIME_THRESHOLD), 1_000_000, LOCKTIME_THRESHOLD));
  assert.ok(isFinalTx(locked(LOCKTIME_THRESHOLD), 0, LOCKTIME_THRESHOLD + 1));
  assert.ok(!isFinalTx(locked(1_600_000_000), 10, 1_600_000_000));
});

test('all-final sequences make any locktime final', () => {
  assert.ok(isFinalTx(locked(1_600_000_000, 0xffffffff), 10, 0));
  const mixed = spend([outpoint(1), outpoint(2)], [1n], {
    locktime: 500,
    sequences: [0xffffffff, 0xfffffffe],
  });
  assert.ok(!isFinalTx(mixed, 10, 0));
});

test('BIP113 cutoff: median time past once active, block time before', () => {
  const p = { csvHeight: 1000 };
  assert.equal(lockTimeCutoff(999, 1_700_000_500, 1_700_000_000, p), 1_700_000_500);
  assert.equal(lockTimeCutoff(1000, 1_700_000_500, 1_700_000_000, p), 1_700_000_000);
  // A tx locked to 1_700_000_200 is final by block time but not yet by median time past.
  const tx = locked(1_700_000_200);
  assert.ok(isFinalTx(tx, 999, lockTimeCutoff(999, 1_700_000_500, 1_700_000_000, p)));
  assert.ok(!isFinalTx(tx, 1000, lockTimeCutoff(1000, 1_700_000_500, 1_700_000_000, p)));
});

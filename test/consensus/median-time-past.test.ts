// Median time past: the median of the last 11 block times (time-too-old, BIP113).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { medianTimePast } from '../../src/consensus/median-time.js';

test('median of the last 11, unsorted input', () => {
  assert.equal(medianTimePast([5, 1, 9, 3, 7, 11, 2, 10, 4, 8, 6]), 6);
  // Only the last 11 count: the leading 1000s are ignored.
  assert.equal(medianTimePast([1000, 1000, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]), 6);
});

test('fewer than 11 blocks near genesis', () => {
  assert.equal(medianTimePast([42]), 42);
  assert.equal(medianTimePast([10, 20]), 20);
  assert.equal(medianTimePast([30, 10, 20]), 20);
  assert.throws(() => medianTimePast([]), RangeError);
});

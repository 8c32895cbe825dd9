import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatHashRate } from '../../src/mining/hash-rate.js';

test('hash rates read in human units', () => {
  assert.equal(formatHashRate(0), '0.00 H/s');
  assert.equal(formatHashRate(950), '950.00 H/s');
  assert.equal(formatHashRate(8_735_006), '8.74 MH/s');
  assert.equal(formatHashRate(999_999), '1.00 MH/s');
  assert.equal(formatHashRate(2.5e9), '2.50 GH/s');
  assert.equal(formatHashRate(Number.NaN), '? H/s');
});

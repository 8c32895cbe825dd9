import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { formatCoins, parseCoins, MAX_MONEY } from '../../src/rpc/amount.js';
import { RpcError } from '../../src/rpc/errors.js';

test('amounts: exact decimal parsing as Core AmountFromValue', () => {
  assert.equal(parseCoins(0.1), 10_000_000n);
  assert.equal(parseCoins('0.00000001'), 1n);
  assert.equal(parseCoins(1e-8), 1n);
  assert.equal(parseCoins('21000000'), MAX_MONEY);
  assert.equal(parseCoins('1.'), 100_000_000n);
  assert.equal(parseCoins(20999999.9769), 2099999997690000n);
  for (const bad of ['0.000000001', '-1', '21000000.00000001', 'abc', '.', '', 'NaN', true, null])
    assert.throws(
      () => parseCoins(bad),
      (e: unknown) => e instanceof RpcError && e.code === -3,
      String(bad),
    );
  assert.equal(formatCoins(123_456_789n), '1.23456789');
  assert.equal(formatCoins(0n), '0.00000000');
  assert.equal(formatCoins(-5n), '-0.00000005');
});

test('amounts: format then parse round trips', () => {
  fc.assert(
    fc.property(fc.bigInt({ min: 0n, max: MAX_MONEY }), (sats) => {
      assert.equal(parseCoins(formatCoins(sats)), sats);
      assert.equal(parseCoins(Number(formatCoins(sats))), sats);
    }),
    { numRuns: 500 },
  );
});

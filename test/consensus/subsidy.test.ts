// Subsidy halvings (50 coins, halving every 210,000 blocks), the 64-halvings zero, and bad-cb-amount.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { blockSubsidy, checkCoinbaseAmount } from '../../src/consensus/subsidy.js';
import { COIN, MAX_MONEY } from '../../src/consensus/amount.js';
import { Block, BlockHeader } from '../../src/primitives/block.js';
import { assertReject, coinbase } from './fixtures.js';

const params = { initialSubsidy: 50n * COIN, halvingInterval: 210_000 };

test('halvings', () => {
  assert.equal(blockSubsidy(0, params), 50n * COIN);
  assert.equal(blockSubsidy(209_999, params), 50n * COIN);
  assert.equal(blockSubsidy(210_000, params), 25n * COIN);
  assert.equal(blockSubsidy(420_000, params), 1_250_000_000n);
  assert.equal(blockSubsidy(210_000 * 33 - 1, params), 1n);
  assert.equal(blockSubsidy(210_000 * 33, params), 0n);
  assert.equal(blockSubsidy(210_000 * 63, params), 0n);
  assert.equal(blockSubsidy(210_000 * 64, params), 0n);
  assert.equal(blockSubsidy(210_000 * 1000, params), 0n);
});

test('64 halvings is zero even where the shifted value would not be', () => {
  const huge = { initialSubsidy: 1n << 80n, halvingInterval: 1 };
  assert.equal(blockSubsidy(63, huge), 1n << 17n);
  assert.equal(blockSubsidy(64, huge), 0n);
});

test('total supply stays below MAX_MONEY', () => {
  let total = 0n;
  for (let h = 0; h < 64; h++) total += blockSubsidy(h * 210_000, params) * 210_000n;
  assert.ok(total <= MAX_MONEY);
  assert.equal(total, 2_099_999_997_690_000n);
});

test('bad-cb-amount: coinbase may claim subsidy + fees, no more', () => {
  const header = new BlockHeader(4, new Uint8Array(32), new Uint8Array(32), 0, 0, 0);
  const block = (v: bigint) => new Block(header, [coinbase(Uint8Array.of(1, 2), [v - 1n, 1n])]);
  checkCoinbaseAmount(block(50n * COIN + 7n), 7n, 10, params);
  checkCoinbaseAmount(block(1n), 7n, 10, params);
  assertReject(() => checkCoinbaseAmount(block(50n * COIN + 8n), 7n, 10, params), 'bad-cb-amount');
  assertReject(() => checkCoinbaseAmount(block(25n * COIN + 1n), 0n, 210_000, params), 'bad-cb-amount');
});

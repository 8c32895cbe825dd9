import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  selectCoins,
  feeFor,
  InsufficientFundsError,
  SelectionWeightError,
  P2PKH_INPUT_SIZE,
  P2PKH_OUTPUT_SIZE,
  DUST_THRESHOLD,
  type Candidate,
  type SelectionParams,
} from '../../src/wallet/coinselect.js';

const RATE = 1000n; // 1 base unit per byte
const BASE = 10 + P2PKH_OUTPUT_SIZE;
const coin = (id: string, value: bigint): Candidate => ({ id, value, inputSize: P2PKH_INPUT_SIZE });
const params = (target: bigint, extra: Partial<SelectionParams> = {}): SelectionParams => ({
  target,
  feeRatePerKb: RATE,
  baseSize: BASE,
  changeOutputSize: P2PKH_OUTPUT_SIZE,
  changeSpendSize: P2PKH_INPUT_SIZE,
  dustThreshold: DUST_THRESHOLD,
  ...extra,
});
const inFee = feeFor(P2PKH_INPUT_SIZE, RATE);
const baseFee = feeFor(BASE, RATE);

test('branch and bound finds the exact changeless match', () => {
  // 3 and 5 (plus their input fees and the base fee) pay exactly 8; larger coins would need change.
  const pool = [
    coin('a', 100_000n),
    coin('b', 3_000n + inFee),
    coin('c', 5_000n + inFee),
    coin('d', 7_000n + inFee),
    coin('e', 40_000n),
  ];
  // Effective values: b 3000, c 5000, d 7000; the selection target (payment + base fee) is 8000.
  const s = selectCoins(pool, params(8_000n - baseFee));
  assert.equal(s.algorithm, 'bnb');
  assert.equal(s.change, 0n);
  assert.deepEqual(s.inputs.map((c) => c.id).sort(), ['b', 'c']);
  assert.equal(s.fee, 2n * inFee + baseFee);
  assert.equal(s.waste, 0n);
});

test('no exact match: fallback makes change at or above dust and pays the fee rate', () => {
  const pool = [coin('a', 100_000n), coin('b', 60_000n), coin('c', 30_000n)];
  const s = selectCoins(pool, params(50_000n));
  assert.notEqual(s.algorithm, 'bnb');
  assert.ok(s.change >= DUST_THRESHOLD);
  const value = s.inputs.reduce((t, c) => t + c.value, 0n);
  assert.equal(value, 50_000n + s.change + s.fee);
  const size = BASE + P2PKH_OUTPUT_SIZE + s.inputs.length * P2PKH_INPUT_SIZE;
  assert.ok(s.fee >= feeFor(size, RATE));
  // The single 60,000 coin wastes less than accumulating from the largest.
  assert.deepEqual(
    s.inputs.map((c) => c.id),
    ['b'],
  );
});

test('insufficient funds, and coins worth less than their input fee are ignored', () => {
  assert.throws(
    () => selectCoins([coin('a', 1_000n), coin('b', 2_000n)], params(5_000n)),
    InsufficientFundsError,
  );
  assert.throws(() => selectCoins([coin('dust', inFee)], params(1n)), InsufficientFundsError);
  assert.throws(() => selectCoins([], params(1n)), InsufficientFundsError);
});

test('property: any selection covers target + fee at the rate, change is 0 or >= dust', () => {
  fc.assert(
    fc.property(
      fc.array(fc.bigInt({ min: 1n, max: 5_000_000n }), { minLength: 1, maxLength: 12 }),
      fc.bigInt({ min: 546n, max: 10_000_000n }),
      fc.bigInt({ min: 1000n, max: 50_000n }),
      (values, target, rate) => {
        const pool = values.map((v, i) => coin(String(i), v));
        let s;
        try {
          s = selectCoins(pool, params(target, { feeRatePerKb: rate }));
        } catch (e) {
          assert.ok(e instanceof InsufficientFundsError);
          return;
        }
        const value = s.inputs.reduce((t, c) => t + c.value, 0n);
        assert.equal(value, target + s.fee + s.change);
        assert.ok(s.change === 0n || s.change >= DUST_THRESHOLD);
        const size = BASE + (s.change > 0n ? P2PKH_OUTPUT_SIZE : 0) + s.inputs.length * P2PKH_INPUT_SIZE;
        assert.ok(s.fee >= feeFor(size, rate), `fee ${s.fee} below ${feeFor(size, rate)}`);
      },
    ),
    { numRuns: 200 },
  );
});

test('a weight limit (maxInputsSize) leaves out sets over it, and fails in one line when all are', () => {
  const small = Array.from({ length: 6 }, (_, i) => coin(`s${i}`, 10_000n));
  const big = coin('big', 100_000n);
  // Unlimited: the single big coin or some small ones; with room for two inputs, only a set of
  // at most two fits, so the big coin is taken.
  const limited = selectCoins([...small, big], params(25_000n, { maxInputsSize: 2 * P2PKH_INPUT_SIZE }));
  assert.ok(limited.inputs.length <= 2);
  assert.ok(limited.inputs.some((c) => c.id === 'big'));
  // Only small coins and room for two: 50,000 needs more than two of them.
  assert.throws(
    () => selectCoins(small, params(50_000n, { maxInputsSize: 2 * P2PKH_INPUT_SIZE })),
    SelectionWeightError,
  );
  // A changeless exact match within the limit is still found.
  const exact = selectCoins(
    [coin('a', 3_000n + inFee), coin('b', 5_000n + inFee)],
    params(8_000n - baseFee, { maxInputsSize: 2 * P2PKH_INPUT_SIZE }),
  );
  assert.equal(exact.algorithm, 'bnb');
});

// getNextWorkRequired on Tally's own networks: ASERT anchored at genesis for main and test, the
// limit on regtest; and Bitcoin's rule between retargets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { calculateAsert } from '../../src/consensus/asert.js';
import { getParams } from '../../src/consensus/params.js';
import { compactToTarget, targetToCompact } from '../../src/consensus/pow.js';
import {
  bitcoinRetarget,
  getNextWorkRequired,
  permittedDifficultyTransition,
  type HeaderInfo,
} from '../../src/consensus/retarget.js';

const noAncestor = (): HeaderInfo => {
  throw new Error('ASERT and regtest need no ancestors');
};

for (const name of ['main', 'test'] as const) {
  const p = getParams(name);
  const g = p.genesis.header;
  const halfLife = p.retarget.kind === 'asert' ? p.retarget.halfLife : 0;
  const next = (height: number, time: number) =>
    getNextWorkRequired({ height, time, bits: 0 }, noAncestor, p);

  test(`${name}: ASERT anchored at genesis keeps genesis bits on schedule`, () => {
    assert.equal(next(0, g.time), g.bits);
    for (const h of [1, 10, 1000, 100_000]) assert.equal(next(h, g.time + 600 * h), g.bits);
  });

  test(`${name}: a chain one half-life ahead of schedule has half the target; behind stays at the limit`, () => {
    const half = targetToCompact(compactToTarget(g.bits).target / 2n);
    assert.equal(next(500, g.time + 600 * 500 - halfLife), half);
    const quarter = targetToCompact(compactToTarget(g.bits).target / 4n);
    assert.equal(next(500, g.time + 600 * 500 - 2 * halfLife), quarter);
    assert.equal(next(500, g.time + 600 * 500 + halfLife), p.powLimitBits);
    // Even absurd timestamps give a valid target: never above the limit, never zero.
    assert.equal(next(1, 0xffffffff), p.powLimitBits);
    const t = compactToTarget(next(10_000_000, g.time));
    assert.ok(t.target > 0n && !t.negative && !t.overflow);
  });
}

test('ASERT target is monotone in the block time and bounded by the limit', () => {
  const p = getParams('main');
  const g = p.genesis.header;
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 1_000_000 }),
      fc.integer({ min: -10_000_000, max: 10_000_000 }),
      fc.nat(100_000),
      (h, dt, more) => {
        const a = compactToTarget(
          getNextWorkRequired({ height: h, time: g.time + dt, bits: 0 }, noAncestor, p),
        ).target;
        const b = compactToTarget(
          getNextWorkRequired({ height: h, time: g.time + dt + more, bits: 0 }, noAncestor, p),
        ).target;
        assert.ok(a <= b && b <= p.powLimit && a > 0n);
      },
    ),
    { numRuns: 500 },
  );
});

test('calculateAsert refuses parameters outside its domain', () => {
  const params = { targetSpacing: 600, halfLife: 3600, powLimit: 1n << 200n };
  assert.throws(() => calculateAsert(0n, 0, 0, params), RangeError);
  assert.throws(() => calculateAsert(1n << 201n, 0, 0, params), RangeError);
  assert.throws(() => calculateAsert(1n, 0, -1, params), RangeError);
  assert.throws(() => calculateAsert(1n, 0.5, 0, params), RangeError);
  assert.equal(calculateAsert(1n, -1e12, 0, params), 1n);
});

test('regtest: every block at the limit', () => {
  const p = getParams('regtest');
  for (const h of [0, 1, 2015, 2016, 50_000]) {
    assert.equal(getNextWorkRequired({ height: h, time: 1, bits: 0x1d00ffff }, noAncestor, p), 0x207fffff);
  }
});

test('bitcoin rule: bits carry over between retargets; the clamp works both ways', () => {
  const b = getParams('bitcoin');
  const prev = { height: 100, time: 5, bits: 0x1b0404cb };
  assert.equal(getNextWorkRequired(prev, noAncestor, b), 0x1b0404cb);
  const last = { height: 2015, time: 1_000_000_000, bits: 0x1b0404cb };
  const t = compactToTarget(0x1b0404cb).target;
  // Too fast: one quarter; too slow: four times (within the limit); exactly on time: unchanged.
  assert.equal(bitcoinRetarget(last, last.time - 1, 1_209_600, b.powLimit), targetToCompact(t / 4n));
  assert.equal(
    bitcoinRetarget(last, last.time - 100 * 1_209_600, 1_209_600, b.powLimit),
    targetToCompact(t * 4n),
  );
  assert.equal(bitcoinRetarget(last, last.time - 1_209_600, 1_209_600, b.powLimit), 0x1b0404cb);
  // Never above the limit.
  assert.equal(bitcoinRetarget({ ...last, bits: 0x1d00ffff }, 0, 1_209_600, b.powLimit), 0x1d00ffff);
  let asked = -1;
  getNextWorkRequired(last, (h) => ((asked = h), { height: h, time: last.time - 1_209_600, bits: 0 }), b);
  assert.equal(asked, 0);
});

test('permittedDifficultyTransition: ASERT exact from the parent alone, regtest the limit, bitcoin clamped', () => {
  const m = getParams('main');
  const g = m.genesis.header;
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 1_000_000 }),
      fc.integer({ min: -50_000, max: 50_000 }),
      (h, drift) => {
        const prev = { height: h, time: g.time + 600 * h + drift, bits: 0 };
        const want = getNextWorkRequired(prev, noAncestor, m);
        assert.ok(permittedDifficultyTransition(prev, want, m));
        assert.ok(!permittedDifficultyTransition(prev, want - 1, m));
      },
    ),
    { numRuns: 200 },
  );
  const r = getParams('regtest');
  assert.ok(permittedDifficultyTransition({ height: 5, time: 0, bits: r.powLimitBits }, r.powLimitBits, r));
  assert.ok(!permittedDifficultyTransition({ height: 5, time: 0, bits: r.powLimitBits }, 0x2000ffff, r));
  const b = getParams('bitcoin');
  const t = compactToTarget(0x1b0404cb).target;
  const inside = { height: 100, time: 0, bits: 0x1b0404cb };
  assert.ok(permittedDifficultyTransition(inside, 0x1b0404cb, b));
  assert.ok(!permittedDifficultyTransition(inside, 0x1b0404cc, b));
  const boundary = { height: 2015, time: 0, bits: 0x1b0404cb };
  assert.ok(permittedDifficultyTransition(boundary, targetToCompact(t * 4n), b));
  assert.ok(permittedDifficultyTransition(boundary, targetToCompact(t / 4n), b));
  assert.ok(permittedDifficultyTransition(boundary, targetToCompact(t * 2n), b));
  assert.ok(!permittedDifficultyTransition(boundary, targetToCompact(t * 5n), b));
  assert.ok(!permittedDifficultyTransition(boundary, targetToCompact(t / 5n), b));
});

// BIP68 relative lock times: height and time based, the disable flag, version < 2, activation,
// and how the chain and the mempool report a locked transaction.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  SEQUENCE_LOCKTIME_DISABLE_FLAG,
  SEQUENCE_LOCKTIME_TYPE_FLAG,
  calculateSequenceLocks,
  checkSequenceLocks,
  evaluateSequenceLocks,
} from '../../src/consensus/tx-verify.js';
import { assertReject, outpoint, spend } from './fixtures.js';

// A chain whose median time past at height h is 1,000,000 + 600 h.
const mtp = (h: number) => 1_000_000 + 600 * h;

function tx(sequences: number[], version = 2) {
  return spend(
    sequences.map((_, i) => outpoint(i)),
    [1n],
    { version, sequences },
  );
}

test('height-based lock: spendable seq blocks after the coin', () => {
  const locks = calculateSequenceLocks(tx([10]), [100], mtp, true);
  assert.deepEqual(locks, { minHeight: 109, minTime: -1 });
  assert.ok(!evaluateSequenceLocks(locks, 109, mtp(108)));
  assert.ok(evaluateSequenceLocks(locks, 110, mtp(109)));
  // seq 0 means no wait at all (the coin may be spent in the next block).
  const zero = calculateSequenceLocks(tx([0]), [100], mtp, true);
  assert.ok(evaluateSequenceLocks(zero, 101, mtp(100)));
});

test('time-based lock: 512-second units from the MTP of the block before the coin', () => {
  const locks = calculateSequenceLocks(tx([SEQUENCE_LOCKTIME_TYPE_FLAG | 2]), [100], mtp, true);
  assert.deepEqual(locks, { minHeight: -1, minTime: mtp(99) + 1024 - 1 });
  assert.ok(!evaluateSequenceLocks(locks, 200, mtp(99) + 1023));
  assert.ok(evaluateSequenceLocks(locks, 200, mtp(99) + 1024));
  // Bits outside the type flag and the 16-bit value are ignored.
  const noisy = calculateSequenceLocks(tx([SEQUENCE_LOCKTIME_TYPE_FLAG | 0x00310002]), [100], mtp, true);
  assert.deepEqual(noisy, locks);
  // A coin in the genesis block measures from the genesis MTP.
  const g = calculateSequenceLocks(tx([SEQUENCE_LOCKTIME_TYPE_FLAG | 1]), [0], mtp, true);
  assert.equal(g.minTime, mtp(0) + 511);
});

test('the most restrictive input wins; disabled inputs are ignored', () => {
  const locks = calculateSequenceLocks(
    tx([5, 20, SEQUENCE_LOCKTIME_TYPE_FLAG | 3, SEQUENCE_LOCKTIME_DISABLE_FLAG | 1000]),
    [100, 90, 50, 100],
    mtp,
    true,
  );
  assert.deepEqual(locks, { minHeight: 109, minTime: mtp(49) + 3 * 512 - 1 });
  const disabled = calculateSequenceLocks(
    tx([SEQUENCE_LOCKTIME_DISABLE_FLAG | 1000, 0xffffffff]),
    [100, 100],
    mtp,
    true,
  );
  assert.deepEqual(disabled, { minHeight: -1, minTime: -1 });
});

test('version < 2 or rule inactive: no locks; version compared unsigned', () => {
  assert.deepEqual(calculateSequenceLocks(tx([10], 1), [100], mtp, true), { minHeight: -1, minTime: -1 });
  assert.deepEqual(calculateSequenceLocks(tx([10], 0), [100], mtp, true), { minHeight: -1, minTime: -1 });
  assert.deepEqual(calculateSequenceLocks(tx([10], 2), [100], mtp, false), { minHeight: -1, minTime: -1 });
  // int32 -1 is 0xffffffff unsigned, which Core treats as >= 2.
  assert.equal(calculateSequenceLocks(tx([10], 0xffffffff), [100], mtp, true).minHeight, 109);
});

test('prevHeights must match the inputs', () => {
  const e = assertReject(() => calculateSequenceLocks(tx([1, 2]), [1], mtp, true), 'prevheights-mismatch');
  assert.equal(e.category, 'internal');
});

test('checkSequenceLocks: bad-txns-nonfinal in blocks, non-BIP68-final (policy) in the mempool', () => {
  const locks = calculateSequenceLocks(tx([10]), [100], mtp, true);
  checkSequenceLocks(locks, 110, mtp(109));
  const b = assertReject(() => checkSequenceLocks(locks, 109, mtp(108)), 'bad-txns-nonfinal');
  assert.equal(b.category, 'consensus');
  const m = assertReject(() => checkSequenceLocks(locks, 109, mtp(108), 'mempool'), 'non-BIP68-final');
  assert.equal(m.category, 'policy');
  assert.equal(m.dos, 0);
});

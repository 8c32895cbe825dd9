// Stratum's wire pieces: any line decodes to a request or a StratumError (never another throw),
// the line reader bounds what it buffers, a notify reads back as written, the coinbase's merkle
// branch rebuilds the block's merkle root, and difficulty maps to Bitcoin's difficulty-1 target.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { computeMerkleRoot } from '../../src/primitives/merkle.js';
import {
  DIFF1_TARGET,
  LineReader,
  StratumError,
  difficultyToTarget,
  merkleBranch,
  notifyParams,
  parseMessage,
  parseNotify,
  rootFromBranch,
  targetToDifficulty,
} from '../../src/stratum/protocol.js';

const isStratumError = (f: () => unknown): boolean => {
  try {
    f();
    return true;
  } catch (e) {
    return e instanceof StratumError;
  }
};

test('parseMessage: any string or JSON value is a request or a StratumError', () => {
  fc.assert(fc.property(fc.string(), (s) => isStratumError(() => parseMessage(s))));
  fc.assert(fc.property(fc.jsonValue(), (v) => isStratumError(() => parseMessage(JSON.stringify(v)))));
  assert.deepEqual(parseMessage('{"id":3,"method":"mining.subscribe","params":["x"]}'), {
    id: 3,
    method: 'mining.subscribe',
    params: ['x'],
  });
});

test('LineReader: lines in any chunking come out whole; an overlong line is refused', () => {
  fc.assert(
    fc.property(
      fc.array(fc.stringMatching(/^[a-z{}":,]{1,40}$/), { maxLength: 20 }),
      fc.nat(),
      (lines, cut) => {
        const text = lines.map((l) => l + '\n').join('');
        const at = text.length === 0 ? 0 : cut % text.length;
        const r = new LineReader(64);
        assert.deepEqual([...r.push(text.slice(0, at)), ...r.push(text.slice(at))], lines);
      },
    ),
  );
  const r = new LineReader(64);
  assert.throws(() => r.push('x'.repeat(65)), StratumError);
});

test('parseNotify reads back what notifyParams writes; a malformed notify is a StratumError', () => {
  const h = fc.uint8Array({ minLength: 32, maxLength: 32 });
  fc.assert(
    fc.property(
      h,
      fc.uint8Array({ maxLength: 60 }),
      fc.uint8Array({ maxLength: 60 }),
      fc.array(h, { maxLength: 12 }),
      fc.nat({ max: 0xffffffff }),
      fc.nat({ max: 0xffffffff }),
      fc.nat({ max: 0xffffffff }),
      fc.boolean(),
      (prevHash, coinb1, coinb2, branch, version, bits, time, clean) => {
        const job = { prevHash, coinb1, coinb2, branch, version, bits };
        const back = parseNotify(notifyParams('1f', job, time, clean));
        assert.deepEqual(back, { jobId: '1f', ...job, time, clean });
      },
    ),
  );
  fc.assert(
    fc.property(fc.array(fc.jsonValue(), { maxLength: 10 }), (p) => isStratumError(() => parseNotify(p))),
  );
});

test('merkleBranch + rootFromBranch give the block merkle root for any transaction count', () => {
  fc.assert(
    fc.property(
      fc.array(fc.uint8Array({ minLength: 32, maxLength: 32 }), { minLength: 1, maxLength: 40 }),
      (ids) => {
        const [cb, ...rest] = ids;
        assert.deepEqual(rootFromBranch(cb, merkleBranch(rest)), computeMerkleRoot(ids).root);
      },
    ),
  );
});

test('difficulty 1 is the 0x1d00ffff target; targets fall as difficulty rises', () => {
  assert.equal(difficultyToTarget(1), DIFF1_TARGET);
  assert.equal(difficultyToTarget(2 ** -28), DIFF1_TARGET << 28n);
  assert.equal(difficultyToTarget(2 ** -40), (1n << 256n) - 1n);
  assert.equal(targetToDifficulty(DIFF1_TARGET), 1);
  fc.assert(
    fc.property(
      fc.double({ min: 1e-9, max: 1e12, noNaN: true }),
      fc.double({ min: 1.001, max: 1000, noNaN: true }),
      (d, k) => {
        assert.ok(difficultyToTarget(d * k) < difficultyToTarget(d));
      },
    ),
  );
  assert.throws(() => difficultyToTarget(0), RangeError);
});

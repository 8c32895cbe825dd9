// aserti3-2d: the twelve published reference runs (Bitcoin Cash Node's qa-assets) reproduce bit
// for bit with the ASERT core at their parameters: 2-day half-life, 600 s spacing, limit 0x1d00ffff.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { calculateAsert } from '../../src/consensus/asert.js';
import { compactToTarget, targetToCompact } from '../../src/consensus/pow.js';
import { vectorPath } from '../vectors.js';

const PARAMS = { targetSpacing: 600, halfLife: 172800, powLimit: compactToTarget(0x1d00ffff).target };

function header(text: string, name: RegExp): string {
  const m = new RegExp(`^##\\s+${name.source}:\\s*(\\S+)`, 'm').exec(text);
  if (!m) throw new Error(`missing header ${name.source}`);
  return m[1];
}

for (let run = 1; run <= 12; run++) {
  const file = `run${String(run).padStart(2, '0')}`;
  test(`aserti3-2d ${file}`, () => {
    const text = readFileSync(vectorPath('asert', file), 'utf8');
    // Heights in run10 pass 2^63, so they are read as bigint; the differences are small.
    const anchorHeight = BigInt(header(text, /anchor height/));
    const anchorParentTime = BigInt(header(text, /anchor (?:ancestor|parent) time/));
    const anchorTarget = compactToTarget(parseInt(header(text, /anchor nBits/), 16)).target;
    const iterations = Number(header(text, /iterations/));
    const lines = text.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
    assert.equal(lines.length, iterations);
    for (const line of lines) {
      const [iteration, height, time, bits] = line.trim().split(/\s+/);
      const next = calculateAsert(
        anchorTarget,
        Number(BigInt(time) - anchorParentTime),
        Number(BigInt(height) - anchorHeight),
        PARAMS,
      );
      assert.equal(targetToCompact(next), parseInt(bits, 16), `${file} iteration ${iteration}`);
    }
  });
}

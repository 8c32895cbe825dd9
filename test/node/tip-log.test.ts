import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TipLog } from '../../src/node/tip-log.js';

test('tip log: one line per block when caught up, summaries every 10 s while catching up, then "caught up"', () => {
  const lines: [string, Record<string, unknown>][] = [];
  let now = 0;
  let best = 10;
  const log = new TipLog({
    log: { info: (o, m) => lines.push([m ?? '', o as Record<string, unknown>]) },
    isInitialBlockDownload: () => false,
    bestHeaderHeight: () => best,
    now: () => now,
  });
  const tip = (height: number) => ({ height, hashHex: `h${height}`, header: { time: 1_800_000_000 } });
  log.onTip(tip(10));
  assert.deepEqual(
    lines.map(([m]) => m),
    ['new tip'],
  );
  best = 1000;
  for (let h = 11; h < 1000; h++) {
    now += 50;
    log.onTip(tip(h));
  }
  const during = lines.slice(1).map(([m]) => m);
  assert.equal(during[0], 'catching up: one line every 10 s until caught up');
  // ~50 s of blocks: one summary per 10 s, not one line per block.
  assert.ok(during.length >= 4 && during.length <= 7, String(during.length));
  now += 50;
  log.onTip(tip(1000));
  const [msg, fields] = lines[lines.length - 1];
  assert.equal(msg, 'caught up');
  assert.equal(fields.height, 1000);
  assert.equal(fields.hash, 'h1000');
  assert.equal(fields.time, '2027-01-15T08:00:00Z');
  log.onTip(tip(1001));
  assert.equal(lines[lines.length - 1][0], 'new tip');
});

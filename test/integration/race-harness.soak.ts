// The race harness (race-harness.ts) for minutes: RACE_SECONDS (default 180) of concurrent
// conflicting and chained RPC and P2P submissions, wallet sends and blocks, checked every 30 s
// round (pool without conflicts, its block connects, wallet coins equal gettxout coins).
// Run: npm run soak -- race-harness
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startNode, stopAll } from './cluster.js';
import { raceHarness } from './race-harness.js';

after(() => stopAll());

test('race harness soak', { timeout: 3_600_000 }, async (t) => {
  const seconds = Number(process.env.RACE_SECONDS ?? 180);
  const n = await startNode();
  await n.rpc('createwallet', ['w']);
  await n.rpc('generatetoaddress', [200, await n.rpc<string>('getnewaddress')]);
  const until = Date.now() + seconds * 1000;
  for (let round = 0; Date.now() < until; round++) {
    const seed = (Date.now() + round) % 1_000_000;
    const stats = await raceHarness(n, Math.min(30_000, until - Date.now()), seed);
    t.diagnostic(`round ${round} seed ${seed}: ${JSON.stringify(stats)}`);
    assert.ok(stats.rounds > 0);
  }
});

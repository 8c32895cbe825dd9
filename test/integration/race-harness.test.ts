// The race harness (race-harness.ts) with a short budget, as npm test runs it: concurrent
// conflicting and chained submissions by RPC and P2P, wallet sends and blocks for a few seconds,
// then the pool, the next block and the wallet are checked. `npm run soak -- race-harness` runs
// it for minutes (race-harness.soak.ts).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startNode, stopAll } from './cluster.js';
import { raceHarness } from './race-harness.js';

after(() => stopAll());

test('race harness: conflicts, chains, sends and blocks at once leave a consistent pool and wallet', async (t) => {
  const n = await startNode();
  await n.rpc('createwallet', ['w']);
  await n.rpc('generatetoaddress', [120, await n.rpc<string>('getnewaddress')]);
  const seed = Date.now() % 100_000;
  const stats = await raceHarness(n, 5_000, seed);
  t.diagnostic(`seed ${seed}: ${JSON.stringify(stats)}`);
  assert.ok(stats.rpcAccepted > 0 && stats.p2pSent > 0 && stats.sends > 0, JSON.stringify(stats));
});

// The wallet crash harness (wallet-crash.ts) at length: CRASH_KILLS (default 30) SIGKILLs of a
// real node during wallet sends, receipts and reorgs, the wallet checked against gettxout after
// every restart. Run: npm run soak -- crash-recovery
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startNode, stopAll } from './cluster.js';
import { walletCrashHarness } from './wallet-crash.js';

after(() => stopAll());

test('wallet crash soak: 30 kills during sends, receipts and reorgs', { timeout: 3_600_000 }, async (t) => {
  const kills = Number(process.env.CRASH_KILLS ?? 30);
  const n = await startNode();
  await n.rpc('createwallet', ['w']);
  await n.rpc('generatetoaddress', [150, await n.rpc<string>('getnewaddress')]);
  const seed = Date.now() % 1_000_000;
  const stats = await walletCrashHarness(n, kills, seed);
  t.diagnostic(`seed ${seed}: ${JSON.stringify(stats)}`);
  assert.equal(stats.kills, kills);
});

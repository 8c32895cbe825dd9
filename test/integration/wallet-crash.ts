// The crash harness extended to the wallet (issue 12): a real `tally node` with a wallet is
// SIGKILLed at a random moment during a send, a receipt (blocks paying the wallet) or a reorg
// (invalidateblock, then a heavier branch paying someone else), again and again. After each
// restart, once the node has resubmitted what it had pending, the wallet must agree with the node:
// every coin listunspent shows (confirmed or pending) is one gettxout knows, with the pool, and
// the balance (trusted + pending) is their sum: its confirmed coins plus its valid pending
// transactions, no phantom change, no lost receipt. Used by crash-recovery.test.ts (a few kills)
// and crash-recovery.soak.ts (30 and more).
import assert from 'node:assert/strict';
import { getParams } from '../../src/consensus/params.js';
import { encodeAddress } from '../../src/primitives/address.js';
import { waitFor, type TallyProcess } from './cluster.js';

interface Unspent {
  txid: string;
  vout: number;
  amount: number;
}
interface Balances {
  mine: { trusted: number; untrusted_pending: number; immature: number };
}

const coins = (x: number) => Math.round(x * 1e8) / 1e8;

/** The wallet's listed coins, each checked against gettxout (pool included); null when one is
 * unknown there or the balance is not their sum (yet: resubmission may still be under way). */
async function agreement(n: TallyProcess): Promise<string | null> {
  const list = await n.rpc<Unspent[]>('listunspent', [0]);
  let sum = 0;
  for (const c of list) {
    const out = await n.rpc<{ value: number } | null>('gettxout', [c.txid, c.vout, true]);
    if (!out) return `listunspent shows ${c.txid}:${c.vout}, which gettxout does not know`;
    if (out.value !== c.amount)
      return `${c.txid}:${c.vout} is ${c.amount} in the wallet, ${out.value} on chain`;
    sum += c.amount;
  }
  const b = (await n.rpc<Balances>('getbalances')).mine;
  if (coins(b.trusted + b.untrusted_pending) !== coins(sum))
    return `balance ${b.trusted} + ${b.untrusted_pending} pending, coins ${coins(sum)}`;
  return null;
}

export interface CrashStats {
  kills: number;
  byAction: Record<string, number>;
}

/** Kills the node `kills` times during random wallet actions; checks the wallet after each restart. */
export async function walletCrashHarness(n: TallyProcess, kills: number, seed: number): Promise<CrashStats> {
  let s = seed >>> 0 || 1;
  const rand = (k: number) => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return (s >>> 8) % k;
  };
  const other = encodeAddress('pubkeyhash', new Uint8Array(20).fill(6), getParams('regtest').prefixes);
  const stats: CrashStats = { kills: 0, byAction: {} };
  const actions: Record<string, () => Promise<unknown>> = {
    send: async () => {
      for (let i = 0; i < 5; i++)
        await n.rpc('sendtoaddress', [rand(2) ? other : await n.rpc('getnewaddress'), 1 + rand(9)]);
    },
    receive: async () => n.rpc('generatetoaddress', [5, await n.rpc<string>('getnewaddress')]),
    reorg: async () => {
      const h = await n.rpc<number>('getblockcount');
      await n.rpc('invalidateblock', [await n.rpc<string>('getblockhash', [h - 2])]);
      await n.rpc('generatetoaddress', [4, other]);
    },
  };
  const names = Object.keys(actions);
  while (stats.kills < kills) {
    const name = names[rand(names.length)];
    // Some actions finish before the kill: their result must be kept too.
    const running = actions[name]().catch(() => undefined);
    await new Promise((r) => setTimeout(r, 50 + rand(600)));
    await n.kill('SIGKILL');
    await running;
    stats.kills++;
    stats.byAction[name] = (stats.byAction[name] ?? 0) + 1;
    await n.start();
    let why: string | null = 'not checked';
    await waitFor(
      async () => (why = await agreement(n)) === null,
      30_000,
      () => `the wallet to agree with the node after a kill during ${name}: ${why}`,
      300,
    );
    // A send still works: nothing left the wallet believing in spent coins.
    await n.rpc('sendtoaddress', [other, 0.5]);
    assert.equal(await agreement(n), null);
  }
  return stats;
}

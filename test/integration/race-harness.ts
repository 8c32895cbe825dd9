// The race harness of issue 12, against one real `tally node`: for a bounded time, at once,
// (1) pairs of conflicting transactions (the same wallet coin, two amounts) and parent/child
// chains, each pair submitted together, one by sendrawtransaction and one as a raw peer's `tx`
// message (or both by one path); (2) concurrent wallet sends; (3) blocks mined at random moments.
// Every submission may lose its race (refused, orphaned, conflicted); what must hold afterwards:
// the pool holds no two spenders of one outpoint and every input it spends is a coin or a pool
// output; the block built from the pool connects and takes every pool transaction with it; the
// wallet's coins are exactly the ones gettxout knows, and its balance their sum. Used by
// race-harness.test.ts (a short budget in npm test) and race-harness.soak.ts (minutes).
import assert from 'node:assert/strict';
import { getParams } from '../../src/consensus/params.js';
import { encodeAddress } from '../../src/primitives/address.js';
import { hexToBytes } from '../../src/primitives/bytes.js';
import { Tx } from '../../src/primitives/tx.js';
import { waitFor, type TallyProcess } from './cluster.js';
import { RawPeer } from './raw-peer.js';

interface Unspent {
  txid: string;
  vout: number;
  amount: number;
  confirmations: number;
}

export interface RaceStats {
  rounds: number;
  rpcAccepted: number;
  rpcRefused: number;
  p2pSent: number;
  sends: number;
  sendsRefused: number;
  blocks: number;
  poolAtEnd: number;
}

const FEE = 0.0001;
const coins = (x: number) => Math.round(x * 1e8) / 1e8;

/** A seeded generator (LCG) so a failing run can be repeated with its seed. */
function rng(seed: number): (n: number) => number {
  let s = seed >>> 0 || 1;
  return (n) => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return (s >>> 8) % n;
  };
}

async function signed(
  n: TallyProcess,
  inputs: { txid: string; vout: number }[],
  outputs: Record<string, number>,
): Promise<string> {
  const raw = await n.rpc<string>('createrawtransaction', [inputs, outputs]);
  return (await n.rpc<{ hex: string }>('signrawtransactionwithwallet', [raw])).hex;
}

/**
 * Runs the harness for `budgetMs` on a node whose loaded wallet has at least a few dozen mature
 * coins; returns what happened. Throws (assert) when an invariant breaks.
 */
export async function raceHarness(n: TallyProcess, budgetMs: number, seed: number): Promise<RaceStats> {
  const rand = rng(seed);
  const other = encodeAddress('pubkeyhash', new Uint8Array(20).fill(5), getParams('regtest').prefixes);
  const own = await n.rpc<string>('getnewaddress');
  const stats: RaceStats = {
    rounds: 0,
    rpcAccepted: 0,
    rpcRefused: 0,
    p2pSent: 0,
    sends: 0,
    sendsRefused: 0,
    blocks: 0,
    poolAtEnd: 0,
  };
  let peer = await RawPeer.handshake(n.p2pUrl);
  const viaP2p = async (hex: string) => {
    if (peer.closeCode !== null) peer = await RawPeer.handshake(n.p2pUrl);
    peer.send({ command: 'tx', tx: Tx.decode(hexToBytes(hex)) });
    stats.p2pSent++;
  };
  const viaRpc = async (hex: string) => {
    try {
      await n.rpc('sendrawtransaction', [hex]);
      stats.rpcAccepted++;
    } catch {
      stats.rpcRefused++;
    }
  };
  const submit = (hex: string) => (rand(3) === 0 ? viaP2p(hex) : viaRpc(hex));
  const deadline = Date.now() + budgetMs;

  // Conflicts and chains, built from the wallet's coins as it sees them now (possibly stale: a
  // coin another worker just spent makes a transaction that must be refused).
  const submitter = async () => {
    while (Date.now() < deadline) {
      stats.rounds++;
      const list = (await n.rpc<Unspent[]>('listunspent', [0])).filter((c) => c.amount > 0.01);
      if (list.length === 0) continue;
      const c = list[rand(list.length)];
      const input = [{ txid: c.txid, vout: c.vout }];
      if (rand(2) === 0) {
        // Two spenders of one coin, submitted together by random paths.
        const a = await signed(n, input, { [other]: coins(c.amount - FEE) });
        const b = await signed(n, input, { [own]: coins(c.amount - 2 * FEE) });
        await Promise.all([submit(a), submit(b)]);
      } else {
        // A parent and its child, together (the child may arrive first: an orphan).
        const half = coins((c.amount - FEE) / 2);
        const parentHex = await signed(n, input, { [own]: half, [other]: coins(c.amount - FEE - half) });
        const parent = Tx.decode(hexToBytes(parentHex));
        const child = await signed(n, [{ txid: parent.txidHex(), vout: 0 }], { [own]: coins(half - FEE) });
        await Promise.all([submit(child), submit(parentHex)]);
      }
    }
  };
  const sender = async () => {
    while (Date.now() < deadline) {
      try {
        await n.rpc('sendtoaddress', [rand(2) ? other : own, coins(0.1 + rand(100) / 10)]);
        stats.sends++;
      } catch {
        stats.sendsRefused++;
      }
    }
  };
  const miner = async () => {
    while (Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200 + rand(800)));
      await n.rpc('generatetoaddress', [1, rand(2) ? own : other]);
      stats.blocks++;
    }
  };
  await Promise.all([submitter(), submitter(), sender(), sender(), miner()]);

  // Quiet: the raw peer's messages are processed once its ping is answered, or once the node has
  // closed it (each unrequested transaction scores 10, docs/p2p.md, so the tenth on a connection
  // closes it, and that may be among the last sent); and the pool stops changing (an orphan's
  // parent may still arrive from the queue).
  if (peer.closeCode === null) {
    await peer.roundTrip().catch((err: unknown) => {
      if (peer.closeCode === null) throw err;
    });
  }
  let last = '';
  await waitFor(
    async () => {
      const now = (await n.rpc<string[]>('getrawmempool')).sort().join();
      const same = now === last;
      last = now;
      return same;
    },
    30_000,
    'a pool that stopped changing',
    300,
  );
  peer.terminate();

  // No two pool transactions spend one outpoint; every input is a coin or a pool output.
  const pool = await n.rpc<string[]>('getrawmempool');
  stats.poolAtEnd = pool.length;
  const txs = await Promise.all(
    pool.map(async (id) => Tx.decode(hexToBytes(await n.rpc<string>('getrawtransaction', [id])))),
  );
  const inPool = new Set(pool);
  const spent = new Map<string, string>();
  for (const tx of txs)
    for (const input of tx.inputs) {
      const k = `${input.prevout.txidHex()}:${input.prevout.index}`;
      assert.equal(spent.get(k), undefined, `${k} spent by ${spent.get(k)} and ${tx.txidHex()} in the pool`);
      spent.set(k, tx.txidHex());
      if (inPool.has(input.prevout.txidHex())) continue;
      const coin = await n.rpc('gettxout', [input.prevout.txidHex(), input.prevout.index, false]);
      assert.ok(coin, `pool tx ${tx.txidHex()} spends ${k}, which is no coin`);
    }

  // The block built from the pool connects and takes all of it.
  const height = await n.rpc<number>('getblockcount');
  await n.rpc('generatetoaddress', [1, other]);
  assert.equal(await n.rpc<number>('getblockcount'), height + 1);
  assert.deepEqual(await n.rpc<string[]>('getrawmempool'), []);
  const block = await n.rpc<{ tx: string[] }>('getblock', [await n.rpc<string>('getbestblockhash')]);
  for (const id of pool) assert.ok(block.tx.includes(id), `${id} was in the pool, not in its block`);

  // The wallet's coins are the node's: every one known to gettxout, the balance their sum.
  const mine = await n.rpc<Unspent[]>('listunspent', [1]);
  let sum = 0;
  for (const c of mine) {
    const out = await n.rpc<{ value: number } | null>('gettxout', [c.txid, c.vout, false]);
    assert.ok(out, `the wallet lists ${c.txid}:${c.vout}, which gettxout does not know`);
    assert.equal(out.value, c.amount);
    sum += c.amount;
  }
  const bal = (await n.rpc<{ mine: { trusted: number; untrusted_pending: number } }>('getbalances')).mine;
  assert.equal(bal.untrusted_pending, 0);
  assert.equal(coins(bal.trusted), coins(sum));
  return stats;
}

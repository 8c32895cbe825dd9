// Core's p2p_eviction against a real `tally node` (issue 11): with every inbound slot taken, the
// connection Core's SelectNodeToEvict drops for a newcomer is the youngest of the largest network
// group among those no protection covers. Each case fills the 32 inbound slots so that the
// youngest peer is saved by one protection only, and shows a newcomer evicting the next youngest
// instead: a peer that just gave a new block (4 protected by block), one that gave a new
// transaction (4 by transaction), the one with the lowest ping (8 by ping), and the network-group
// protection (4 by keyed group, whichever group's key is higher). Each fails with that protection's
// count at 0. Then Core's discouragement at accept: a discouraged host is taken while the slots
// are not (almost) full, is the first evicted, and is refused once they are.
// After each: the node within its RSS bound, an honest node still follows it.
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getParams } from '../../src/consensus/params.js';
import { hash160 } from '../../src/crypto/hash.js';
import { InvType } from '../../src/p2p/messages.js';
import { encodeAddress } from '../../src/primitives/address.js';
import { bytesToHex } from '../../src/primitives/bytes.js';
import { Builder } from '../chain/builder.js';
import { stopAll, waitFor } from './cluster.js';
import { startTarget, type Target } from './hostile-target.js';
import { RawPeer, connectMany, nonLoopbackAddress, type RawPeerOptions } from './raw-peer.js';
import { rawUpgrade } from '../p2p/helpers.js';

const params = getParams('regtest');
const builder = new Builder(params);
const OURS = encodeAddress('pubkeyhash', hash160(builder.pub), params.prefixes);
/** maxconnections=40 leaves 32 inbound slots (8 kept for outbound, as Core's 125 - 8 - 2 - 1). */
const INBOUND_SLOTS = 32;
/** RSS the node may gain over each scenario. */
const RSS_GROWTH_MB = 60;

describe('p2p_eviction: protected peers keep their slots', { timeout: 180_000 }, () => {
  let target: Target;
  const datadir = mkdtempSync(join(tmpdir(), 'tally-eviction-'));
  // Recent times: the node is out of initial download and announces its tip to B. b1's coinbase
  // is mature once the 100 blocks after it are in: the transaction case spends it.
  const now = Math.floor(Date.now() / 1000);
  const b1 = builder.block(builder.genesis, { time: now - 200 });
  const mature = builder.chain(b1, 100, (i) => ({ time: now - 199 + i }));
  const b2 = builder.block(mature[mature.length - 1], { time: now });
  let open: RawPeer[] = [];

  before(async () => {
    writeFileSync(join(datadir, 'tally.conf'), '[regtest]\nmaxconnections=40\n');
    target = await startTarget({
      datadir,
      pay: OURS,
      setup: async (a) => {
        for (const b of [b1, ...mature]) await a.rpc('submitblock', [bytesToHex(b.encode())]);
      },
    });
  });
  after(async () => {
    await stopAll();
    rmSync(datadir, { recursive: true, force: true });
  });

  /** Connects one peer after another (the node's connection order is this order). */
  async function inOrder(n: number, opts: RawPeerOptions = {}): Promise<RawPeer[]> {
    const out: RawPeer[] = [];
    for (let i = 0; i < n; i++) out.push(await RawPeer.handshake(target.a.p2pUrl, opts));
    open.push(...out);
    return out;
  }

  /** Squatters connected in parallel batches: their order among themselves is not asserted. */
  async function squat(n: number, opts: RawPeerOptions = {}): Promise<RawPeer[]> {
    const out = await connectMany(target.a.p2pUrl, n, opts);
    open.push(...out);
    return out;
  }

  async function assertFull(): Promise<void> {
    assert.equal((await target.a.rpc<unknown[]>('getpeerinfo')).length, INBOUND_SLOTS, 'every slot taken');
  }

  /** Waits until the node has recorded a block or transaction time for the peer of `subver`. */
  async function waitForPeerTime(subver: string, field: 'last_block' | 'last_transaction'): Promise<void> {
    await waitFor(
      async () =>
        (
          await target.a.rpc<{ subver: string; last_block: number; last_transaction: number }[]>(
            'getpeerinfo',
          )
        ).some((p) => p.subver === subver && p[field] > 0),
      15_000,
      `${field} recorded for ${subver}`,
    );
  }

  /** A newcomer arrives; exactly one connection is dropped for it, and it is `victim`. */
  async function newcomerEvicts(victim: RawPeer): Promise<void> {
    const newcomer = (await inOrder(1))[0];
    await waitFor(() => open.some((p) => p.closed), 15_000, 'a peer to be evicted');
    const evicted = open.filter((p) => p.closed);
    assert.equal(evicted.length, 1, `${evicted.length} peers evicted for one newcomer`);
    assert.equal(evicted[0], victim, 'the youngest unprotected peer goes');
    assert.ok(!newcomer.closed, 'the newcomer got a slot');
  }

  /** Drops every raw peer and waits until only B is left (also before each case: a failed one
   * leaves its peers behind). */
  async function dropAll(): Promise<void> {
    for (const p of open) p.terminate();
    open = [];
    await waitFor(
      async () => (await target.a.rpc<unknown[]>('getpeerinfo')).length === 1,
      15_000,
      'the raw peers to be gone',
    );
  }
  beforeEach(dropAll);

  /** The node's common check, with the slots free again. */
  async function cleanUp(what: string): Promise<void> {
    await dropAll();
    await target.fine(what, RSS_GROWTH_MB);
  }

  it('the youngest peer, having relayed a block, is protected; the next youngest is evicted', async () => {
    const { a } = target;
    // B (the honest node) holds one slot; squatters all but one of the rest.
    await squat(INBOUND_SLOTS - 3);
    const [next] = await inOrder(1);
    const giver = (await inOrder(1, { version: { userAgent: '/giver/' } }))[0];
    await assertFull();
    // The giver announces b2 by headers, is asked for it and sends it: the node's new tip.
    const from = giver.received.length;
    giver.send({ command: 'headers', headers: [b2.header] });
    const ask = await giver.next('getdata', 15_000, from);
    assert.ok(ask.items.some((it) => it.type === InvType.BLOCK));
    giver.send({ command: 'block', block: b2 });
    await waitFor(async () => (await a.rpc<number>('getblockcount')) === 102, 15_000, 'b2 to connect');
    // The tip moves inside the chain's processBlock; the peer's block time is recorded when that
    // returns (as Core's m_last_block_time after ProcessNewBlock): wait for that, not the tip.
    await waitForPeerTime('/giver/', 'last_block');
    await newcomerEvicts(next);
    assert.ok(!giver.closed, 'the peer that gave a new block keeps its slot (Core: 4 by block)');
    await cleanUp('a full node evicting for a newcomer (block protection)');
  });

  it('the youngest peer, having relayed a new transaction, is protected', async () => {
    const { a } = target;
    await squat(INBOUND_SLOTS - 3);
    const [next] = await inOrder(1);
    const [giver] = await inOrder(1, { version: { userAgent: '/txgiver/' } });
    await assertFull();
    // Announced, asked for, sent and taken into the pool: the node's newest transaction.
    const tx = builder.spend([builder.cbOut(b1)], { fee: 10_000n });
    const from = giver.received.length;
    giver.send({ command: 'inv', items: [{ type: InvType.TX, hash: tx.txid() }] });
    const ask = await giver.next('getdata', 15_000, from);
    assert.ok(ask.items.some((it) => it.type === InvType.TX));
    giver.send({ command: 'tx', tx });
    await waitFor(
      async () => (await a.rpc<string[]>('getrawmempool')).includes(tx.txidHex()),
      15_000,
      'the transaction in the pool',
    );
    await waitForPeerTime('/txgiver/', 'last_transaction');
    await newcomerEvicts(next);
    assert.ok(!giver.closed, 'the peer that gave a new transaction keeps its slot (Core: 4 by tx)');
    await cleanUp('a full node evicting for a newcomer (transaction protection)');
  });

  it('the youngest peer, with the only measured ping, is protected', async () => {
    const { a } = target;
    // Squatters that never answer a ping have no ping time; the youngest peer answers at once.
    const silent = [...(await squat(INBOUND_SLOTS - 3)), ...(await inOrder(1))];
    for (const p of silent) p.answerPings = false;
    const next = silent[silent.length - 1];
    const [fast] = await inOrder(1, { version: { userAgent: '/fast/' } });
    await assertFull();
    await a.rpc('ping');
    await waitFor(
      async () =>
        (await a.rpc<{ subver: string; minping?: number }[]>('getpeerinfo')).some(
          (p) => p.subver === '/fast/' && p.minping !== undefined,
        ),
      15_000,
      'a ping time for the fast peer',
    );
    await newcomerEvicts(next);
    assert.ok(!fast.closed, 'the peer with the lowest ping keeps its slot (Core: 8 by ping)');
    await cleanUp('a full node evicting for a newcomer (ping protection)');
  });

  it('4 peers are protected by keyed network group before the other protections', async (t) => {
    const remote = nonLoopbackAddress();
    if (!remote) return t.skip('this machine has no non-loopback IPv4 address');
    // Connection order: B and 23 local peers, 5 from another network group, 3 local. Protected
    // first, 4 by the group whose secret key is higher: the 4 oldest local peers or 4 of the 5
    // others. Then 8 by ping, 4 by transaction, 4 by block (ties: the oldest), half the rest by
    // age; of the 6 youngest left either way, the local group is at least as large as the other
    // and holds the youngest, so the youngest local peer goes. Without the group protection the
    // 16 tie-protections reach only the oldest 16 and half of the rest ends at the 20th: the 8
    // youngest are 5 of the other group and 3 local, and the other group's youngest would go.
    await squat(23);
    const others = await inOrder(5, { localAddress: remote });
    const locals = await inOrder(3);
    await assertFull();
    await newcomerEvicts(locals[2]);
    assert.ok(
      others.every((p) => !p.closed),
      'no peer of the smaller group is evicted',
    );
    await cleanUp('a full node evicting for a newcomer (network group protection)');
  });

  // Last: the machine's non-loopback address stays discouraged for the node's life.
  it('a discouraged host is taken while slots are free, evicted first, refused once they are (almost) full', async (t) => {
    const remote = nonLoopbackAddress();
    if (!remote) return t.skip('this machine has no non-loopback IPv4 address');
    const { a } = target;
    const bad = await RawPeer.handshake(a.p2pUrl, { localAddress: remote });
    bad.sendText('garbage');
    await bad.waitClosed();
    // Connection order: B and 21 local peers, 5 from the discouraged address (each taken: at most
    // 26 inbound, 26 + 1 < 32, Core's rule), 5 local. Whichever group's key is higher, the 4
    // protected by group are its oldest, and 16 oldest by the tie-protections and half the rest
    // by age leave the youngest discouraged peer and the 5 young local ones. Core's m_prefer_evict
    // narrows those to the discouraged one; without it the larger local group's youngest would go.
    await squat(21);
    const discouraged = await inOrder(5, { localAddress: remote });
    await inOrder(5);
    await assertFull();
    await newcomerEvicts(discouraged[4]);
    // Full again: the discouraged host is refused at its upgrade, nobody evicted for it.
    assert.deepEqual(await rawUpgrade(a.p2pUrl, { localAddress: remote }), {
      status: 403,
      body: 'discouraged\n',
    });
    await assertFull();
    assert.equal(open.filter((p) => p.closed).length, 1, 'no eviction for a refused discouraged host');
    await cleanUp('a discouraged host evicted first and refused when full');
  });
});

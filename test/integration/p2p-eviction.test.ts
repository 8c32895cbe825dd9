// Core's p2p_eviction, the recent-block protection, against a real `tally node` (issue 11): with
// every inbound slot taken by peers from one address, the youngest connection is the one Core's
// SelectNodeToEvict drops for a newcomer, unless it is protected. Here the youngest is a peer
// that just gave the node a new block: a newcomer evicts the next youngest instead, the
// block-giver keeps its slot, the node stays within its RSS bound and an honest node still syncs.
import { after, before, describe, it } from 'node:test';
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
import { RawPeer, connectMany } from './raw-peer.js';

const params = getParams('regtest');
const builder = new Builder(params);
const OURS = encodeAddress('pubkeyhash', hash160(builder.pub), params.prefixes);
/** maxconnections=40 leaves 32 inbound slots (8 kept for outbound, as Core's 125 - 8 - 2 - 1). */
const INBOUND_SLOTS = 32;
/** RSS the node may gain over the scenario. */
const RSS_GROWTH_MB = 60;

describe('p2p_eviction: a peer that gave a new block keeps its slot', { timeout: 120_000 }, () => {
  let target: Target;
  const datadir = mkdtempSync(join(tmpdir(), 'tally-eviction-'));
  // Recent times: the node leaves initial download at b1 and announces its tip to B.
  const now = Math.floor(Date.now() / 1000);
  const b1 = builder.block(builder.genesis, { time: now });
  const b2 = builder.block(b1, { time: now + 1 });

  before(async () => {
    writeFileSync(join(datadir, 'tally.conf'), '[regtest]\nmaxconnections=40\n');
    target = await startTarget({
      datadir,
      pay: OURS,
      setup: (a) => a.rpc('submitblock', [bytesToHex(b1.encode())]),
    });
  });
  after(async () => {
    await stopAll();
    rmSync(datadir, { recursive: true, force: true });
  });

  it('the youngest peer, having relayed a block, is protected; the next youngest is evicted', async () => {
    const { a } = target;
    // B (the honest node) holds one slot; squatters all but one of the rest.
    const squatters = await connectMany(a.p2pUrl, INBOUND_SLOTS - 2);
    const giver = await RawPeer.handshake(a.p2pUrl, { version: { userAgent: '/giver/' } });
    assert.equal((await a.rpc<unknown[]>('getpeerinfo')).length, INBOUND_SLOTS, 'every slot taken');
    // The giver announces b2 by headers, is asked for it and sends it: the node's new tip.
    const from = giver.received.length;
    giver.send({ command: 'headers', headers: [b2.header] });
    const ask = await giver.next('getdata', 15_000, from);
    assert.ok(ask.items.some((it) => it.type === InvType.BLOCK));
    giver.send({ command: 'block', block: b2 });
    await waitFor(async () => (await a.rpc<number>('getblockcount')) === 2, 15_000, 'b2 to connect');
    const newcomer = await RawPeer.handshake(a.p2pUrl, { version: { userAgent: '/newcomer/' } });
    await waitFor(async () => squatters.some((s) => s.closed), 15_000, 'a squatter to be evicted');
    const evicted = squatters.filter((s) => s.closed);
    assert.equal(evicted.length, 1, `${evicted.length} squatters evicted for one newcomer`);
    assert.equal(evicted[0], squatters[squatters.length - 1], 'the youngest unprotected peer goes');
    assert.ok(!giver.closed, 'the peer that gave a new block keeps its slot (Core: 4 by block)');
    assert.ok(!newcomer.closed, 'the newcomer got a slot');
    for (const p of [...squatters, giver, newcomer]) p.terminate();
    await target.fine('a full node evicting for a newcomer', RSS_GROWTH_MB);
  });
});

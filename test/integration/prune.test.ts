// A pruned node against real `tally node` processes (small block files through the test-only
// TALLY_TEST_BLOCKFILE_BYTES, which scales the prune target with them): it follows a mining peer,
// deletes its oldest block files while keeping the last 288 blocks, reports it in
// getblockchaininfo, answers getblock of a pruned block with Core's -1, advertises
// NODE_NETWORK_LIMITED (BIP159), serves a peer blocks within 288 (+2) of its tip and disconnects one
// asking deeper, except a noban peer (Core's -whitelist), which gets any block still stored and
// is not disconnected for misbehaving; a
// node syncing from it asks it for no deeper block. An
// index whose blocks are pruned is refused at start-up with Core's line, losing nothing.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { encodeAddress } from '../../src/primitives/address.js';
import { getParams } from '../../src/consensus/params.js';
import { hexToBytes, reverseHex } from '../../src/primitives/bytes.js';
import { InvType, NODE_NETWORK_LIMITED } from '../../src/p2p/messages.js';
import { mine, startNode, stopAll, waitFor, waitSameTip } from './cluster.js';
import { RawPeer } from './raw-peer.js';

after(() => stopAll());

interface ChainInfo {
  blocks: number;
  pruned: boolean;
  pruneheight?: number;
  automatic_pruning?: boolean;
  prune_target_size?: number;
}

test('a pruned node follows a miner, keeps the last 288 blocks, refuses pruned ones as Core', async () => {
  // 8 KiB block files: prune=550 becomes 550 MiB * 8 KiB / 128 MiB = 35 KB of files.
  process.env.TALLY_TEST_BLOCKFILE_BYTES = '8192';
  const addr = encodeAddress('pubkeyhash', new Uint8Array(20).fill(3), getParams('regtest').prefixes);
  const miner = await startNode();
  await mine(miner, 420, addr);
  // Peers from 127.0.0.2 have Core's noban permission; those from 127.0.0.1 do not.
  const pruned = await startNode({
    args: ['--prune', '550', '--connect', miner.p2pUrl, '--whitelist', 'noban@127.0.0.2'],
  });
  await waitSameTip([miner, pruned], 60_000);

  const info = await pruned.rpc<ChainInfo>('getblockchaininfo');
  assert.equal(info.pruned, true);
  assert.equal(info.automatic_pruning, true);
  assert.equal(info.prune_target_size, 550 * 1024 * 1024);
  assert.ok(info.pruneheight! > 1 && info.pruneheight! <= 420 - 288 + 1, JSON.stringify(info));
  const files = readdirSync(join(pruned.networkDir, 'blocks')).filter((f) => f.startsWith('blk'));
  assert.ok(!files.includes('blk00000.dat'), files.join(' '));
  const full = await miner.rpc<ChainInfo>('getblockchaininfo');
  assert.equal(full.pruned, false);
  assert.equal(full.pruneheight, undefined);

  // getblock of a pruned block: Core's -1; of a kept one: the block.
  const old = await pruned.rpc<string>('getblockhash', [1]);
  await assert.rejects(pruned.rpc('getblock', [old]), (e: Error & { code?: number }) => {
    assert.equal(e.code, -1);
    assert.match(e.message, /Block not available \(pruned data\)/);
    return true;
  });
  const recent = await pruned.rpc<string>('getblockhash', [420 - 288]);
  assert.equal((await pruned.rpc<{ height: number }>('getblock', [recent])).height, 420 - 288);
  await assert.rejects(
    miner.rpc('pruneblockchain', [10]),
    /Cannot prune blocks because node is not in prune mode\./,
  );
  assert.equal(await pruned.rpc<number>('pruneblockchain', [5]), info.pruneheight! - 1);

  // dumptxoutset rollback needs the blocks above the target: refused below the prune height, as Core.
  await assert.rejects(
    pruned.rpc('dumptxoutset', ['old.dat', '', { rollback: 1 }]),
    (e: Error & { code?: number }) => {
      assert.equal(e.code, -1);
      assert.equal(
        e.message,
        'Could not roll back to requested height since necessary block data is already pruned.',
      );
      return true;
    },
  );

  // A peer is told NODE_NETWORK_LIMITED, gets a recent block and notfound for a pruned one.
  const peer = await RawPeer.connect(pruned.p2pUrl);
  peer.sendVersion();
  const version = await peer.next('version');
  assert.equal(version.services, NODE_NETWORK_LIMITED);
  await peer.next('verack');
  peer.send({ command: 'verack' });
  const item = (h: string) => ({ type: InvType.BLOCK, hash: hexToBytes(h).reverse() });
  peer.send({ command: 'getdata', items: [item(recent)] });
  const served = await peer.next('block', 15_000);
  assert.equal(served.block.hashHex(), recent);
  const unknown = 'ab'.repeat(32);
  peer.send({ command: 'getdata', items: [item(unknown)] });
  const nf = await peer.next('notfound', 15_000);
  assert.equal(reverseHex(nf.items[0].hash), unknown);
  // Core's ProcessGetBlockData: a block more than 288 + 2 below the tip (pruned or not) is not
  // served; the peer asking is disconnected.
  peer.send({ command: 'getdata', items: [item(await pruned.rpc<string>('getblockhash', [420 - 291]))] });
  await peer.waitClosed(15_000);

  // A noban peer is served a block that deep when it is still stored (Core's ProcessGetBlockData
  // skips the NODE_NETWORK_LIMITED threshold for NetPermissionFlags::NoBan).
  const lowest = (await pruned.rpc<ChainInfo>('getblockchaininfo')).pruneheight! + 1;
  assert.ok(420 - lowest > 290, `lowest stored block ${lowest} is within 290 of the tip`);
  const deep = await pruned.rpc<string>('getblockhash', [lowest]);
  const noban = await RawPeer.connect(pruned.p2pUrl, { localAddress: '127.0.0.2' });
  noban.sendVersion();
  await noban.next('version');
  await noban.next('verack');
  noban.send({ command: 'verack' });
  noban.send({ command: 'getdata', items: [item(deep)] });
  assert.equal((await noban.next('block', 15_000)).block.hashHex(), deep);
  // Misbehaviour worth a discouragement (a text frame: 100 points) costs a noban peer nothing:
  // it stays connected and is answered after it (Core: "not punishing noban peer").
  const received = noban.received.length;
  noban.sendText('hello');
  noban.send({ command: 'getdata', items: [item(recent)] });
  assert.equal((await noban.next('block', 15_000, received)).block.hashHex(), recent);
  assert.equal(noban.closed, false);
  interface Perms {
    inbound: boolean;
    permissions: string[];
  }
  const perms = (await pruned.rpc<Perms[]>('getpeerinfo')).filter((p) => p.inbound).map((p) => p.permissions);
  assert.deepEqual(perms, [['noban']]);
  noban.terminate();
  await waitFor(
    async () => !(await pruned.rpc<Perms[]>('getpeerinfo')).some((p) => p.inbound),
    15_000,
    'the noban peer gone',
  );

  // A node whose only peer is the pruned one takes its headers and asks it for no block 286 or
  // more below its best (Core's FindNextBlocksToDownload), so it stays connected (it connects no
  // block: it lacks the first ones). Its ping is answered after anything it sent before.
  const fresh = await startNode({ args: ['--connect', pruned.p2pUrl] });
  await waitFor(
    async () => (await fresh.rpc<{ headers: number }>('getblockchaininfo')).headers === 420,
    30_000,
    'headers from the pruned node',
  );
  interface PeerInfo {
    id: number;
    inbound: boolean;
    bytessent_per_msg: Record<string, number>;
    bytesrecv_per_msg: Record<string, number>;
  }
  const inbound = async () => (await pruned.rpc<PeerInfo[]>('getpeerinfo')).find((p) => p.inbound);
  const before = (await inbound())!;
  await fresh.rpc('ping');
  await waitFor(
    async () => ((await inbound())?.bytessent_per_msg.pong ?? 0) > (before.bytessent_per_msg.pong ?? 0),
    15_000,
    'pong to the new node',
  );
  // It asked for the blocks the pruned node has (which it holds until their parents come) over
  // the same connection: a request for a deeper one would have cost it the connection.
  const seen = (await inbound())!;
  assert.equal(seen.id, before.id);
  assert.ok(seen.bytesrecv_per_msg.getdata > 0, JSON.stringify(seen.bytesrecv_per_msg));
  assert.equal((await fresh.rpc<ChainInfo>('getblockchaininfo')).blocks, 0);
  await fresh.stop();

  // It keeps following the miner, pruning as it goes.
  await mine(miner, 30, addr);
  await waitSameTip([miner, pruned], 60_000);
  const later = await pruned.rpc<ChainInfo>('getblockchaininfo');
  assert.ok(later.pruneheight! >= info.pruneheight!, JSON.stringify(later));
  assert.equal(later.blocks, 450);

  // An index that needs pruned blocks (a new one needs them all) stops the node at start-up with
  // Core's line, and costs nothing: the node starts again without it, at the same tip.
  const tip = await pruned.rpc<string>('getbestblockhash');
  await pruned.stop();
  const args = pruned.args;
  for (const index of [
    ['--blockfilterindex', 'basic block filter index'],
    ['--coinstatsindex', 'coinstatsindex'],
  ]) {
    pruned.args = [...args, index[0]];
    const line = `error: ${index[1]} best block of the index goes beyond pruned data. Please disable the index or reindex (which will download the whole blockchain again)\n`;
    await assert.rejects(pruned.start(), (e: Error) => e.message.includes(line));
  }
  pruned.args = args;
  await pruned.start();
  assert.equal(await pruned.rpc<string>('getbestblockhash'), tip);
  assert.equal((await pruned.rpc<ChainInfo>('getblockchaininfo')).pruneheight, later.pruneheight);
  delete process.env.TALLY_TEST_BLOCKFILE_BYTES;
});

// Supervision against a scripted attacker (issue 17): a raw WebSocket peer (raw-peer.ts) against
// a real `tally node` that holds a 101-block chain and a pool transaction. The attacker
// double-spends the pool transaction (paying less: refused; paying more: a replacement), shows a
// rival branch as heavy as the tip, releases it with one block more (a 3-block reorganisation), sends a header without proof of work and a block
// paying its miner too much. Each is logged, raises its tally_supervision_events_total{event} in
// /metrics, is listed by the explorer and runs alertnotify; the tip going stale raises its own.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getParams } from '../../src/consensus/params.js';
import type { Block } from '../../src/primitives/block.js';
import { InvType } from '../../src/p2p/messages.js';
import { bytesToHex } from '../../src/primitives/bytes.js';
import { Builder } from '../chain/builder.js';
import { sampleValue, scrapeMetrics } from '../node/prom-text.js';
import { startNode, stopAll, waitFor } from './cluster.js';
import { RawPeer } from './raw-peer.js';

const datadir = mkdtempSync(join(tmpdir(), 'tally-supervision-'));
after(async () => {
  await stopAll();
  rmSync(datadir, { recursive: true, force: true });
});

/** Answers the node's getdata for any block in `blocks` until the peer closes. */
function serveBlocks(peer: RawPeer, blocks: Block[]): void {
  const byHash = new Map(blocks.map((b) => [bytesToHex(b.hash()), b]));
  let seen = 0;
  const tick = setInterval(() => {
    for (; seen < peer.received.length; seen++) {
      const m = peer.received[seen];
      if (m.command !== 'getdata') continue;
      for (const item of m.items) {
        const b = byHash.get(bytesToHex(item.hash));
        if (item.type === InvType.BLOCK && b) peer.send({ command: 'block', block: b });
      }
    }
    if (peer.closed) clearInterval(tick);
  }, 20);
  tick.unref();
}

test(
  'each attack raises its supervision event, its counter and alertnotify',
  { timeout: 180_000 },
  async () => {
    const params = getParams('regtest');
    const b = new Builder(params);
    const now = Math.floor(Date.now() / 1000);
    // 101 blocks a minute apart ending a few minutes ago: out of initial download, coinbase 1 mature.
    const main = b.chain(b.genesis, 101, (i) => ({ time: now - 6100 + i * 60 }));
    const alerts = join(datadir, 'alerts.txt');
    const node = await startNode({
      datadir,
      args: [
        `--alertnotify=echo %s >> ${alerts}`,
        '--metrics',
        '--explorer=0',
        '--connect=0',
        '--alertreorgdepth=2',
        '--alertforklength=2',
        // 0.05 spacings of 600 s: a tip older than 30 s is stale.
        '--alertstaletip=0.05',
      ],
    });
    for (const blk of main) assert.equal(await node.rpc('submitblock', [bytesToHex(blk.encode())]), null);
    const spend = b.spend([b.cbOut(main[0])], { fee: 10_000n });
    await node.rpc('sendrawtransaction', [bytesToHex(spend.encode())]);

    const alertLines = () => (existsSync(alerts) ? readFileSync(alerts, 'utf8') : '');
    const raised = async (event: string) => {
      await waitFor(
        () => alertLines().includes(event),
        30_000,
        () => `alertnotify for ${event}:\n${alertLines()}`,
      );
    };

    // Double spends of the pool transaction, each announced and then sent when the node asks for
    // it: one paying less (refused), one paying more (it replaces the pool's, full RBF).
    const attacker = await RawPeer.handshake(node.p2pUrl);
    const doubleSpends = () =>
      alertLines()
        .split('\n')
        .filter((l) => l.startsWith('double-spend')).length;
    for (const [i, fee] of [5_000n, 50_000n].entries()) {
      const doubleSpend = b.spend([b.cbOut(main[0])], { fee });
      const from = attacker.received.length;
      attacker.send({ command: 'inv', items: [{ type: InvType.TX, hash: doubleSpend.txid() }] });
      await attacker.next('getdata', 30_000, from);
      attacker.send({ command: 'tx', tx: doubleSpend });
      await waitFor(
        () => doubleSpends() === i + 1,
        30_000,
        () => `double-spend alert ${i + 1}:\n${alertLines()}`,
      );
    }

    // A rival branch from height 98 as heavy as the tip (3 blocks), then one block more: a reorg of 3.
    const rival = b.chain(main[97], 4, (i) => ({ time: now - 200 + i, tag: 1000 + i }));
    serveBlocks(attacker, rival);
    attacker.send({ command: 'headers', headers: rival.slice(0, 3).map((x) => x.header) });
    await raised('close-fork');
    attacker.send({ command: 'headers', headers: [rival[3].header] });
    await raised('deep-reorg');
    assert.equal(await node.rpc('getbestblockhash'), rival[3].hashHex());

    // A header without proof of work on the new tip.
    const bad = await RawPeer.handshake(node.p2pUrl);
    bad.send({ command: 'headers', headers: [b.block(rival[3], { time: now, unsolved: true }).header] });
    await raised('invalid-header');

    // A block whose coinbase pays more than subsidy and fees.
    const thief = await RawPeer.handshake(node.p2pUrl);
    const greedy = b.block(rival[3], { time: now, fees: 1n });
    serveBlocks(thief, [greedy]);
    thief.send({ command: 'headers', headers: [greedy.header] });
    await raised('invalid-block');

    // Nobody mines: the tip goes stale.
    await raised('stale-tip');

    const families = await scrapeMetrics(node.rpcPort);
    assert.equal(sampleValue(families, 'tally_supervision_events_total', { event: 'double-spend' }), 2);
    for (const event of ['close-fork', 'deep-reorg', 'invalid-header', 'invalid-block'])
      assert.equal(sampleValue(families, 'tally_supervision_events_total', { event }), 1, event);
    // Once per stale tip: the chain's tip and the rival's may both have gone stale.
    assert.ok(sampleValue(families, 'tally_supervision_events_total', { event: 'stale-tip' }) >= 1);
    assert.equal(sampleValue(families, 'tally_last_reorg_depth'), 3);
    assert.equal(
      sampleValue(families, 'tally_invalid_received_total', { kind: 'tx', reason: 'insufficient fee' }),
      1,
    );
    assert.equal(
      sampleValue(families, 'tally_invalid_received_total', { kind: 'block', reason: 'bad-cb-amount' }),
      1,
    );
    const events = [
      'double-spend',
      'close-fork',
      'deep-reorg',
      'invalid-header',
      'invalid-block',
      'stale-tip',
    ];
    const log = readFileSync(join(node.networkDir, 'debug.log'), 'utf8');
    for (const event of events)
      assert.match(log, new RegExp(`supervision: ${event}|"event":"${event}"`), event);
    // The explorer's front page lists them (its data: /api/summary's alerts).
    const explorer = /explorer=(\S+)/.exec(node.output)?.[1];
    assert.ok(explorer, node.output);
    const summary = (await (await fetch(`${explorer}api/summary`)).json()) as { alerts: { event: string }[] };
    for (const event of events)
      assert.ok(
        summary.alerts.some((a) => a.event === event),
        `${event} in the explorer: ${JSON.stringify(summary.alerts)}`,
      );
  },
);

// node/metrics.ts and node/utxo-count.ts as parts: prom-client's text for the node's figures
// reads back through the strict text-format reader with the values the source gave, labels that
// outsiders choose stay bounded, and the UTXO count's baseline takes only the blocks after the
// tip its scan saw. The reader itself refuses text the format does not allow.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_REASON_LABELS, NodeMetrics, type MetricsSource } from '../../src/node/metrics.js';
import { UtxoCounter } from '../../src/node/utxo-count.js';
import { parsePromText, sampleValue } from './prom-text.js';

function source(over: Partial<MetricsSource> = {}): MetricsSource {
  return {
    tipHeight: () => 7,
    headerHeight: () => 9,
    peers: () => ({ inbound: 2, outbound: 3 }),
    netTotals: () => ({ bytesSent: 100, bytesRecv: 250 }),
    mempool: () => ({ size: 4, bytes: 900 }),
    utxoCount: () => null,
    hashrate: () => 1234.5,
    blocksFound: () => 6,
    bannedPeers: () => 1,
    stratum: () => null,
    ...over,
  };
}

test('the figures read back from the text with their values', async () => {
  let sent = 100;
  const m = new NodeMetrics(source({ netTotals: () => ({ bytesSent: sent, bytesRecv: 250 }) }));
  m.blockConnected(0.02, 10);
  m.blockConnected(0.5, 0);
  m.reorg(3);
  m.rpcCall('getblockcount', 0.001, true);
  m.invalidReceived('block', 'bad-txnmrklroot', 'consensus');
  m.declareEvent('stale-tip');
  m.supervisionEvent('deep-reorg');
  let f = parsePromText((await m.render()).body);
  assert.equal(sampleValue(f, 'tally_tip_height'), 7);
  assert.equal(sampleValue(f, 'tally_header_height'), 9);
  assert.equal(sampleValue(f, 'tally_peers', { direction: 'outbound' }), 3);
  assert.equal(sampleValue(f, 'tally_network_bytes_total', { direction: 'received' }), 250);
  assert.equal(sampleValue(f, 'tally_mempool_bytes'), 900);
  assert.ok(Number.isNaN(sampleValue(f, 'tally_utxo_count')), 'an unknown count is NaN, not 0');
  assert.equal(sampleValue(f, 'tally_hashrate_hashes_per_second'), 1234.5);
  assert.equal(sampleValue(f, 'tally_blocks_found_total'), 6);
  assert.equal(sampleValue(f, 'tally_block_connect_seconds_count'), 2);
  assert.equal(sampleValue(f, 'tally_block_connect_seconds_bucket', { le: '0.025' }), 1);
  assert.equal(sampleValue(f, 'tally_inputs_verified_total'), 10);
  assert.equal(sampleValue(f, 'tally_verify_inputs_per_second'), 500);
  assert.equal(sampleValue(f, 'tally_last_reorg_depth'), 3);
  assert.equal(sampleValue(f, 'tally_supervision_events_total', { event: 'stale-tip' }), 0);
  assert.equal(sampleValue(f, 'tally_supervision_events_total', { event: 'deep-reorg' }), 1);
  assert.equal(
    sampleValue(f, 'tally_invalid_received_total', { kind: 'block', reason: 'bad-txnmrklroot' }),
    1,
  );
  // A counter over a running total adds only what grew since the last scrape.
  sent = 160;
  f = parsePromText((await m.render()).body);
  assert.equal(sampleValue(f, 'tally_network_bytes_total', { direction: 'sent' }), 160);
  assert.equal(sampleValue(f, 'tally_blocks_found_total'), 6);
});

test('Stratum shares per worker follow the server table: a forgotten worker leaves /metrics', async () => {
  const w = (name: string, accepted: number) => ({
    name,
    accepted,
    rejected: 1,
    stale: 2,
    duplicate: 3,
    lowdifficulty: 4,
    blocks: 5,
  });
  let workers = [w('rig1', 10), w('rig2', 20)];
  const m = new NodeMetrics(source({ stratum: () => ({ connections: 2, workers }) }));
  let f = parsePromText((await m.render()).body);
  assert.equal(sampleValue(f, 'tally_stratum_connections'), 2);
  assert.equal(sampleValue(f, 'tally_stratum_shares_total', { worker: 'rig1', result: 'accepted' }), 10);
  assert.equal(sampleValue(f, 'tally_stratum_shares_total', { worker: 'rig2', result: 'lowdifficulty' }), 4);
  assert.equal(sampleValue(f, 'tally_stratum_blocks_total', { worker: 'rig2' }), 5);
  workers = [w('rig2', 21)];
  f = parsePromText((await m.render()).body);
  assert.equal(sampleValue(f, 'tally_stratum_shares_total', { worker: 'rig2', result: 'accepted' }), 21);
  const names = new Set(f.get('tally_stratum_shares_total')!.samples.map((x) => x.labels.worker));
  assert.deepEqual([...names], ['rig2']);
  // Without --stratum the connection gauge is NaN and there are no share series.
  const none = parsePromText((await new NodeMetrics(source()).render()).body);
  assert.ok(Number.isNaN(sampleValue(none, 'tally_stratum_connections')));
  assert.equal(none.get('tally_stratum_shares_total')?.samples.length ?? 0, 0);
});

test('rejection reasons beyond the bound count as "other"', async () => {
  const m = new NodeMetrics(source());
  for (let i = 0; i < MAX_REASON_LABELS + 50; i++) m.invalidReceived('tx', `reason-${i}`, 'policy');
  const f = parsePromText((await m.render()).body);
  const samples = f.get('tally_invalid_received_total')!.samples;
  assert.equal(samples.length, MAX_REASON_LABELS + 1);
  assert.equal(sampleValue(f, 'tally_invalid_received_total', { reason: 'other' }), 50);
});

test('the reader refuses what the text format does not allow', () => {
  const bad = [
    'x 1\n', // no family declared
    '# TYPE x gauge\nx{a="1",a="2"} 1\n',
    '# TYPE x gauge\nx one\n',
    '# TYPE x gauge\nx{1a="1"} 1\n',
    '# TYPE x gauge\nx 1',
    '# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n',
    '# TYPE h histogram\nh_bucket{le="+Inf"} 2\nh_sum 1\nh_count 1\n',
  ];
  for (const text of bad) assert.throws(() => parsePromText(text), Error, JSON.stringify(text));
  const ok = parsePromText('# HELP x a b\n# TYPE x counter\nx{p="a\\"b"} 2 1700000000\n');
  assert.equal(sampleValue(ok, 'x', { p: 'a"b' }), 2);
});

test('the UTXO count starts from the scan and adds the blocks after the tip the scan saw', () => {
  const block = (outs: number, ins: number) =>
    ({
      txs: [
        { outputs: Array.from({ length: 1 }, () => ({ scriptPubKey: Uint8Array.of(0x51) })), inputs: [] },
        {
          outputs: Array.from({ length: outs }, () => ({ scriptPubKey: Uint8Array.of(0x51) })),
          inputs: Array.from({ length: ins }, () => ({})),
        },
      ],
    }) as never;
  const c = new UtxoCounter();
  c.apply(block(2, 1), 1, 'a'); // +2
  c.apply(block(3, 1), 1, 'b'); // +3 (the scan saw tip b)
  c.apply(block(3, 1), -1, 'a'); // -3
  c.apply(block(1, 0), 1, 'c'); // +2
  assert.equal(c.value, null);
  assert.ok(c.baseline(50, 'b'));
  assert.equal(c.value, 49);
  c.apply(block(0, 2), 1, 'd');
  assert.equal(c.value, 48);
  // OP_RETURN outputs are never in the set.
  const d = new UtxoCounter();
  d.baseline(10, 'x');
  d.apply({ txs: [{ outputs: [{ scriptPubKey: Uint8Array.of(0x6a) }], inputs: [] }] } as never, 1, 'y');
  assert.equal(d.value, 10);
});

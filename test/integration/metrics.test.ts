// /metrics on a real node (issue 17): the Prometheus text a scraper reads, parsed by a
// strict Prometheus text-format reader (test/node/prom-text.ts),
// shows the figures RPC gives for the same things: tip and header height, pool size and bytes,
// the UTXO count (gettxoutsetinfo's txouts, counted once at start and then followed block by
// block), blocks found, connect times, and the RPC calls made, by method, unknown names folded.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { sampleValue as value, scrapeMetrics } from '../node/prom-text.js';
import { startNode, stopAll } from './cluster.js';

after(() => stopAll());

test('/metrics shows what RPC shows, in the Prometheus text format', { timeout: 120_000 }, async () => {
  const node = await startNode({ args: ['--metrics'] });
  await node.rpc('createwallet', { wallet_name: 'default' });
  const addr = await node.rpc<string>('getnewaddress');
  await node.rpc('generatetoaddress', [101, addr]);
  await node.rpc('sendtoaddress', [addr, 3]);
  await assert.rejects(node.rpc('nosuchmethod'));

  const families = await scrapeMetrics(node.rpcPort);
  const info = await node.rpc<{ blocks: number; headers: number }>('getblockchaininfo');
  const pool = await node.rpc<{ size: number; bytes: number }>('getmempoolinfo');
  const utxos = await node.rpc<{ txouts: number }>('gettxoutsetinfo');
  const mining = await node.rpc<{ blocksfound: number }>('getmininginfo');
  assert.equal(value(families, 'tally_tip_height'), info.blocks);
  assert.equal(value(families, 'tally_header_height'), info.headers);
  assert.equal(value(families, 'tally_mempool_transactions'), 1);
  assert.equal(value(families, 'tally_mempool_transactions'), pool.size);
  assert.equal(value(families, 'tally_mempool_bytes'), pool.bytes);
  assert.equal(value(families, 'tally_utxo_count'), utxos.txouts);
  assert.equal(value(families, 'tally_blocks_found_total'), mining.blocksfound);
  assert.equal(value(families, 'tally_peers', { direction: 'inbound' }), 0);
  assert.equal(families.get('tally_block_connect_seconds')?.type, 'histogram');
  assert.equal(value(families, 'tally_block_connect_seconds_count'), 101);
  assert.equal(value(families, 'tally_rpc_calls_total', { method: 'sendtoaddress', outcome: 'ok' }), 1);
  assert.equal(value(families, 'tally_rpc_calls_total', { method: 'unknown', outcome: 'error' }), 1);
  assert.equal(value(families, 'tally_rpc_duration_seconds_count', { method: 'generatetoaddress' }), 1);
  assert.equal(value(families, 'tally_supervision_events_total', { event: 'deep-reorg' }), 0);
  assert.ok(value(families, 'process_resident_memory_bytes') > 10_000_000);
  assert.ok(families.has('nodejs_heap_size_used_bytes'));
  for (const name of [
    'tally_network_bytes_total',
    'tally_hashrate_hashes_per_second',
    'tally_verify_inputs_per_second',
    'tally_reorg_depth',
    'tally_banned_peers',
  ])
    assert.ok(families.has(name), `${name} missing`);

  // Unauthenticated GET only; JSON-RPC beside it still needs the cookie.
  const post = await fetch(`http://127.0.0.1:${node.rpcPort}/metrics`, { method: 'POST', body: '' });
  assert.equal(post.status, 405);
  const rpc = await fetch(`http://127.0.0.1:${node.rpcPort}/`, { method: 'POST', body: '{}' });
  assert.equal(rpc.status, 401);
});

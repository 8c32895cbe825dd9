// The node-side methods no other real-node test compared with Core (issue 14's audit), against one
// real tally process: each result's field names and JSON types against Core v29's documented
// result (kept below as data, from Core's RPC help text) and each method's error code and message
// as Core words it.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startWalletNode, stopAll, type TallyProcess } from '../integration/cluster.js';
import { assertCoreShape, type CoreShape, independentKey, jsonType, rpcCode as code } from './helpers.js';

// From Core v29's help text (RPCResult of each method).
const CORE: Record<string, CoreShape> = {
  getnettotals: {
    totalbytesrecv: 'number',
    totalbytessent: 'number',
    timemillis: 'number',
    uploadtarget: 'object',
  },
  uploadtarget: {
    timeframe: 'number',
    target: 'number',
    target_reached: 'boolean',
    serve_historical_blocks: 'boolean',
    bytes_left_in_cycle: 'number',
    time_left_in_cycle: 'number',
  },
  addednode: { addednode: 'string', connected: 'boolean', addresses: 'array' },
  decodescript: {
    asm: 'string',
    desc: 'string',
    type: 'string',
    'address?': 'string',
    'p2sh?': 'string',
    'segwit?': 'object',
  },
  estimatesmartfee: { 'feerate?': 'number', 'errors?': 'array', blocks: 'number' },
  addrmanNetwork: { new: 'number', tried: 'number', total: 'number' },
  getaddrmaninfo: {
    ipv4: 'object',
    ipv6: 'object',
    onion: 'object',
    i2p: 'object',
    cjdns: 'object',
    all_networks: 'object',
  },
  createmultisig: { address: 'string', redeemScript: 'string', descriptor: 'string', 'warnings?': 'array' },
};

const PUB = '0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798';
const NO_HASH = '00'.repeat(32);

let node: TallyProcess;
let address: string;
before(async () => {
  ({ node, address } = await startWalletNode());
});
after(stopAll);

test('numbers and lists: uptime, getnetworkhashps, getdifficulty, getnodeaddresses, getzmqnotifications, getorphantxs', async () => {
  for (const m of ['uptime', 'getnetworkhashps', 'getdifficulty'])
    assert.equal(jsonType(await node.rpc(m)), 'number', m);
  for (const m of ['getnodeaddresses', 'getzmqnotifications', 'getorphantxs'])
    assert.equal(jsonType(await node.rpc(m)), 'array', m);
  await assert.rejects(node.rpc('getnodeaddresses', [-1]), code(-8, 'Address count out of range'));
  await assert.rejects(node.rpc('getorphantxs', [3]), code(-8, 'Invalid verbosity value 3'));
  await assert.rejects(
    node.rpc('getorphantxs', [true]),
    code(-3, 'Verbosity was boolean but only integer allowed'),
  );
});

test('network: getnettotals, getaddednodeinfo, getaddrmaninfo, setnetworkactive, disconnectnode, clearbanned', async () => {
  const totals = await node.rpc<{ uploadtarget: unknown }>('getnettotals');
  assertCoreShape(totals, CORE.getnettotals, 'getnettotals');
  assertCoreShape(totals.uploadtarget, CORE.uploadtarget, 'uploadtarget');
  await node.rpc('addnode', ['127.0.0.1:1', 'add']);
  const added = await node.rpc<unknown[]>('getaddednodeinfo');
  assert.equal(added.length, 1);
  assertCoreShape(added[0], CORE.addednode, 'getaddednodeinfo');
  await node.rpc('addnode', ['127.0.0.1:1', 'remove']);
  await assert.rejects(
    node.rpc('getaddednodeinfo', ['127.0.0.1:2']),
    code(-24, 'Error: Node has not been added.'),
  );
  const addrman = await node.rpc<Record<string, unknown>>('getaddrmaninfo');
  assertCoreShape(addrman, CORE.getaddrmaninfo, 'getaddrmaninfo');
  for (const [net, counts] of Object.entries(addrman)) assertCoreShape(counts, CORE.addrmanNetwork, net);
  assert.equal(await node.rpc('setnetworkactive', [true]), true);
  assert.equal(await node.rpc('clearbanned'), null);
  await assert.rejects(
    node.rpc('disconnectnode', ['127.0.0.1:3']),
    code(-29, 'Node not found in connected nodes'),
  );
});

test('blocks: getblockfilter without the index, getblockfrompeer, preciousblock', async () => {
  const tip = await node.rpc<string>('getbestblockhash');
  await assert.rejects(
    node.rpc('getblockfilter', [tip]),
    code(-1, 'Index is not enabled for filtertype basic'),
  );
  await assert.rejects(node.rpc('getblockfrompeer', [NO_HASH, 0]), code(-1, 'Block header missing'));
  await assert.rejects(node.rpc('getblockfrompeer', [tip, 0]), code(-1, 'Block already downloaded'));
  assert.equal(await node.rpc('preciousblock', [tip]), null);
  await assert.rejects(node.rpc('preciousblock', [NO_HASH]), code(-5, 'Block not found'));
});

test("utility: decodescript, estimatesmartfee, createmultisig's descriptor, messages, logging", async () => {
  const info = await node.rpc<{ scriptPubKey: string }>('validateaddress', [address]);
  const d = await node.rpc<{ desc: string; address: string }>('decodescript', [info.scriptPubKey]);
  assertCoreShape(d, CORE.decodescript, 'decodescript');
  assert.equal(d.address, address);
  assert.match(d.desc, new RegExp(`^addr\\(${address}\\)#[a-z0-9]{8}$`));
  await assert.rejects(
    node.rpc('decodescript', ['zz']),
    code(-8, "argument must be hexadecimal string (not 'zz')"),
  );

  assertCoreShape(await node.rpc('estimatesmartfee', [6]), CORE.estimatesmartfee, 'estimatesmartfee');
  await assert.rejects(
    node.rpc('estimatesmartfee', [0]),
    code(-8, 'Invalid conf_target, must be between 1 and 1008'),
  );

  // createmultisig's descriptor is Core's inferred sh(multi(…)), and it derives the same address.
  const ms = await node.rpc<{ address: string; descriptor: string }>('createmultisig', [1, [PUB]]);
  assertCoreShape(ms, CORE.createmultisig, 'createmultisig');
  assert.match(ms.descriptor, new RegExp(`^sh\\(multi\\(1,${PUB}\\)\\)#[a-z0-9]{8}$`));
  assert.deepEqual(await node.rpc('deriveaddresses', [ms.descriptor]), [ms.address]);
  await assert.rejects(
    node.rpc('createmultisig', [0, []]),
    code(-8, 'a multisignature address must require at least one key to redeem'),
  );

  const key = independentKey();
  const sig = await node.rpc<string>('signmessagewithprivkey', [key.wif, 'hello']);
  assert.equal(jsonType(sig), 'string');
  assert.equal(await node.rpc('verifymessage', [key.address, sig, 'hello']), true);
  assert.equal(await node.rpc('verifymessage', [key.address, sig, 'other']), false);
  await assert.rejects(node.rpc('signmessagewithprivkey', ['x', 'hello']), code(-5, 'Invalid private key'));
  await assert.rejects(node.rpc('verifymessage', ['x', sig, 'hello']), code(-5, 'Invalid address'));
  await assert.rejects(
    node.rpc('verifymessage', [key.address, '!!', 'hello']),
    code(-3, 'Malformed base64 encoding'),
  );

  const categories = await node.rpc<Record<string, unknown>>('logging');
  assert.ok(Object.values(categories).every((v) => typeof v === 'boolean'));
  await assert.rejects(node.rpc('logging', [['foo']]), code(-8, 'unknown logging category foo'));
});

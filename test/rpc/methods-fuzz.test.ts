// Random requests over HTTP at a real server with the chain and raw-transaction methods on a real
// regtest chain and pool: every request must get a JSON-RPC answer (result or error with a code),
// never a crash, a hang or a non-JSON 500.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { bytesToHex } from '../../src/primitives/bytes.js';
import { type NodeFixture, openNodeFixture } from './node-fixture.js';
import { randomRpcBodies, randomRpcParams, rawPost } from './helpers.js';

const METHODS = [
  'getblockchaininfo',
  'getblockcount',
  'getbestblockhash',
  'getblockhash',
  'getblock',
  'getblockheader',
  'getchaintips',
  'getdifficulty',
  'gettxout',
  'gettxoutsetinfo',
  'getmempoolinfo',
  'getrawmempool',
  'getmempoolentry',
  'invalidateblock',
  'reconsiderblock',
  'estimatesmartfee',
  'validateaddress',
  'getrawtransaction',
  'decoderawtransaction',
  'decodescript',
  'createrawtransaction',
  'signrawtransactionwithwallet',
  'sendrawtransaction',
  'testmempoolaccept',
];

let f: NodeFixture;
let cookie: string;
before(async () => {
  f = await openNodeFixture();
  await f.server.start();
  cookie = readFileSync(join(f.dir, '.cookie'), 'utf8');
});
after(async () => {
  await f.close();
});

function isAnswer(v: unknown): boolean {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
  const o = v as Record<string, unknown>;
  if (o.error !== undefined && o.error !== null) {
    const e = o.error as Record<string, unknown>;
    return typeof e.code === 'number' && typeof e.message === 'string';
  }
  return 'result' in o;
}

test('random requests at the chain and raw-transaction methods always get a JSON-RPC answer', async () => {
  const known = [
    f.blocks[102].hashHex(),
    f.blocks[50].hashHex(),
    f.sibling.hashHex(),
    f.spendTx.txidHex(),
    f.parent.txidHex(),
    f.child.txidHex(),
    bytesToHex(f.spendTx.encode()),
    bytesToHex(f.child.encode()),
    bytesToHex(f.builder.script),
    f.walletAddress,
  ];
  const hex = fc.uint8Array({ maxLength: 40 }).map(bytesToHex);
  const value = fc.oneof(
    fc.constantFrom(...known),
    fc.integer({ min: -2, max: 1_100 }),
    fc.boolean(),
    hex,
    fc.jsonValue({ maxDepth: 2 }),
    fc.array(fc.record({ txid: fc.constantFrom(...known), vout: fc.integer({ min: -1, max: 3 }) }), {
      maxLength: 2,
    }),
    fc.dictionary(fc.constantFrom(f.walletAddress, 'data', 'x'), fc.oneof(fc.double(), hex)),
  );
  const params = randomRpcParams(value, [
    'blockhash',
    'verbosity',
    'verbose',
    'txid',
    'n',
    'height',
    'hexstring',
    'inputs',
    'outputs',
    'rawtxs',
    'maxfeerate',
    'address',
    'conf_target',
    'estimate_mode',
    'prevtxs',
    'include_mempool',
  ]);
  // Well-formed calls of the real methods with plausible and hostile arguments, single or batched.
  const call = fc.record({
    jsonrpc: fc.constantFrom('1.0', '2.0'),
    method: fc.constantFrom(...METHODS),
    params,
    id: fc.nat(),
  });
  const wellFormed = fc.oneof(
    call.map((c) => JSON.stringify(c)),
    fc.array(call, { maxLength: 4 }).map((a) => JSON.stringify(a)),
  );
  await fc.assert(
    fc.asyncProperty(fc.oneof(randomRpcBodies(METHODS, params), wellFormed, wellFormed), async (body) => {
      const r = await rawPost(f.server.port, body, cookie);
      assert.ok([200, 204, 400, 404, 500].includes(r.status), `status ${r.status} for ${body}`);
      if (r.status === 204) return;
      const parsed = JSON.parse(r.body) as unknown;
      const answers = Array.isArray(parsed) ? parsed : [parsed];
      for (const a of answers) assert.ok(isAnswer(a), `not a JSON-RPC answer: ${r.body} for ${body}`);
    }),
    { numRuns: 600 },
  );
  // Still serving and consistent afterwards.
  assert.equal(await f.server.call('reconsiderblock', [f.blocks[1].hashHex()]), null);
  assert.ok(((await f.server.call('getblockcount')) as number) >= 103);
});

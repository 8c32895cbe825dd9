// REST paths as untrusted input: any path gives an HTTP answer (200, 400 or 404), never an
// exception; getutxos' bounds and formats follow Core's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { handleRest, MAX_GETUTXOS_OUTPOINTS } from '../../src/rpc/rest.js';
import { RpcCode, RpcError } from '../../src/rpc/errors.js';

const H = 'ab'.repeat(32);
// A stand-in node: known hash H, anything else is not found.
const call = (method: string, params: unknown[]): Promise<unknown> => {
  const known =
    params[0] === H ||
    method === 'getblockchaininfo' ||
    method.startsWith('getmempool') ||
    method === 'getrawmempool';
  if (!known && method !== 'getblockhash')
    return Promise.reject(new RpcError(RpcCode.INVALID_ADDRESS_OR_KEY, 'not found'));
  switch (method) {
    case 'getblockchaininfo':
      return Promise.resolve({ blocks: 5, bestblockhash: H });
    case 'getblockhash':
      return params[0] === 1
        ? Promise.resolve(H)
        : Promise.reject(new RpcError(RpcCode.INVALID_PARAMETER, 'range'));
    case 'getblockheader':
      return Promise.resolve(params[1] ? { hash: H, confirmations: 1 } : '00'.repeat(80));
    case 'gettxout':
      return Promise.resolve({ confirmations: 2, value: 1.5, scriptPubKey: { hex: '51' } });
    default:
      return Promise.resolve(params[1] === 0 || params[1] === false ? '00' : { ok: true });
  }
};

test('any REST path gets an HTTP answer', async () => {
  const seg = fc.oneof(
    fc.constantFrom(
      'tx',
      'block',
      'notxdetails',
      'headers',
      'blockhashbyheight',
      'chaininfo',
      'mempool',
      'info',
      'contents',
      'getutxos',
      'checkmempool',
      H,
      `${H}-0`,
      '1',
      '3',
      '',
    ),
    fc.string({ maxLength: 10 }),
  );
  const path = fc
    .tuple(
      fc.array(seg, { maxLength: 5 }),
      fc.constantFrom('.json', '.bin', '.hex', '', '.xml'),
      fc.constantFrom('', '?count=2', '?count=x', '?verbose=false'),
    )
    .map(([parts, ext, q]) => `/rest/${parts.join('/')}${ext}${q}`);
  await fc.assert(
    fc.asyncProperty(path, async (p) => {
      const r = await handleRest(p, call);
      assert.ok([200, 400, 404].includes(r.status), `${p} -> ${r.status}`);
    }),
    { numRuns: 400 },
  );
});

test('getutxos: bitmap, Core binary layout and the outpoint bound', async () => {
  const j = await handleRest(`/rest/getutxos/${H}-0.json`, call);
  assert.deepEqual(JSON.parse(String(j.body)), {
    chainHeight: 5,
    chaintipHash: H,
    bitmap: '1',
    utxos: [{ height: 4, value: 1.5, scriptPubKey: { hex: '51' } }],
  });
  const b = Buffer.from((await handleRest(`/rest/getutxos/${H}-0.bin`, call)).body);
  // height 5, tip hash, bitmap [1 byte 0x01], one coin: dummy 0, height 4, 150000000, script 51.
  assert.equal(b.readUInt32LE(0), 5);
  assert.equal(b.subarray(4, 36).toString('hex'), Buffer.from(H, 'hex').reverse().toString('hex'));
  assert.deepEqual([...b.subarray(36, 39)], [1, 1, 1]);
  assert.equal(b.readUInt32LE(39), 0);
  assert.equal(b.readUInt32LE(43), 4);
  assert.equal(b.readBigInt64LE(47), 150_000_000n);
  assert.deepEqual([...b.subarray(55)], [1, 0x51]);
  const many = Array.from({ length: MAX_GETUTXOS_OUTPOINTS + 1 }, () => `${H}-0`).join('/');
  const r = await handleRest(`/rest/getutxos/${many}.json`, call);
  assert.equal(r.status, 400);
  assert.match(String(r.body), /max outpoints exceeded \(max: 15, tried: 16\)/);
  const w = await handleRest(`/rest/chaininfo.json`, () =>
    Promise.reject(new RpcError(RpcCode.IN_WARMUP, 'Loading block index...')),
  );
  assert.equal(w.status, 503);
});

// The RPC client reading replies from whatever answers on the port (a node, an older node, some
// other service): any status and body gives a result, an RpcError or an RpcConnectionError with
// a one-line message, never a TypeError from a reply that is valid JSON but not an object.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { RpcClient, RpcConnectionError } from '../../src/rpc/client.js';
import { RpcError } from '../../src/rpc/errors.js';

test('RPC client: any reply status and body is a result or a typed error', async (t) => {
  let reply = { status: 200, body: '' };
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(reply.status, { 'Content-Type': 'application/json' });
      res.end(reply.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => server.close());
  const client = new RpcClient({ port: (server.address() as AddressInfo).port, user: 'u', password: 'p' });
  const body = fc.oneof(
    fc.json({ maxDepth: 3 }),
    fc.string({ maxLength: 40 }),
    fc.string({ unit: fc.constantFrom('a', '\n', '\r', ' ', '{', '}'), maxLength: 20 }),
    fc.constantFrom(
      'null',
      '5',
      '[]',
      '{"error":"boom"}',
      '{"error":5}',
      '{"error":{"code":"x"}}',
      '{"result":1}',
    ),
  );
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(200, 200, 401, 403, 404, 500), body, async (status, text) => {
      reply = { status, body: text };
      try {
        await client.call('getblockcount');
      } catch (e) {
        assert.ok(e instanceof RpcError || e instanceof RpcConnectionError, String(e));
        if (e instanceof RpcConnectionError) assert.ok(!/[\r\n]/.test(e.message), e.message);
      }
    }),
    { numRuns: 80 },
  );
  reply = { status: 200, body: 'null' };
  await assert.rejects(client.call('x'), RpcConnectionError);
  reply = { status: 500, body: '{"error":"boom","result":null}' };
  await assert.rejects(client.call('x'), (e: unknown) => e instanceof RpcError && e.code === -1);
});

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, statSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import http from 'node:http';
import { networkInterfaces } from 'node:os';
import fc from 'fast-check';
import { RpcServer, parseAllowList } from '../../src/rpc/server.js';
import { RpcClient, RpcConnectionError } from '../../src/rpc/client.js';
import { RpcCode, RpcError } from '../../src/rpc/errors.js';
import { JsonAmount } from '../../src/rpc/amount.js';
import { ParamReader } from '../../src/rpc/params.js';
import { randomRpcBodies, rawPost } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'tally-rpc-'));
let server: RpcServer;
let cookie: string;
let stopCalls = 0;

before(async () => {
  server = new RpcServer({
    port: 0,
    auth: { cookieDir: dir },
    authFailDelayMs: 5,
    maxBodyBytes: 64 * 1024,
    onStop: () => void stopCalls++,
  });
  server.register('echo', (p) => p, { params: ['a', 'b', 'c'], help: 'Echo the parameters.' });
  server.register('fail', () => {
    throw new RpcError(RpcCode.INVALID_ADDRESS_OR_KEY, 'Invalid address');
  });
  server.register('crash', () => {
    throw new Error('boom');
  });
  server.register('amount', () => ({ value: new JsonAmount(123_456_789n), big: 2n ** 60n }));
  server.register(
    'typed',
    (p) => {
      const r = new ParamReader(p, ['count', 'label']);
      return { count: r.int(0, 0, 10), label: r.optString(1) ?? '' };
    },
    { params: ['count', 'label'] },
  );
  await server.start();
  cookie = readFileSync(join(dir, '.cookie'), 'utf8');
});

after(async () => {
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
});

const post = (body: unknown, auth: string | null = cookie) =>
  rawPost(server.port, typeof body === 'string' ? body : JSON.stringify(body), auth);

test('cookie file: __cookie__:<64 hex>, mode 0600', () => {
  assert.match(cookie, /^__cookie__:[0-9a-f]{64}$/);
  assert.equal(statSync(join(dir, '.cookie')).mode & 0o777, 0o600);
});

test('JSON-RPC 1.0 replies carry result and error (null), 2.0 omit the null one', async () => {
  const r1 = await post({ method: 'echo', params: [1, 'x'], id: 7 });
  assert.equal(r1.status, 200);
  assert.deepEqual(JSON.parse(r1.body), { result: [1, 'x'], error: null, id: 7 });
  const r2 = await post({ jsonrpc: '2.0', method: 'echo', params: [1], id: 'a' });
  assert.equal(r2.status, 200);
  assert.deepEqual(JSON.parse(r2.body), { jsonrpc: '2.0', result: [1], id: 'a' });
});

test('1.0 errors are HTTP errors (500, 404 method not found); 2.0 errors are HTTP 200', async () => {
  const e1 = await post({ method: 'fail', id: 1 });
  assert.equal(e1.status, 500);
  assert.deepEqual(JSON.parse(e1.body), {
    result: null,
    error: { code: -5, message: 'Invalid address' },
    id: 1,
  });
  const nf = await post({ method: 'nope', id: 2 });
  assert.equal(nf.status, 404);
  assert.equal(JSON.parse(nf.body).error.code, -32601);
  const e2 = await post({ jsonrpc: '2.0', method: 'nope', id: 3 });
  assert.equal(e2.status, 200);
  assert.deepEqual(JSON.parse(e2.body), {
    jsonrpc: '2.0',
    error: { code: -32601, message: 'Method not found' },
    id: 3,
  });
  const crash = await post({ jsonrpc: '2.0', method: 'crash', id: 4 });
  assert.deepEqual(JSON.parse(crash.body).error, { code: -1, message: 'boom' });
  const bad = await post({ id: 5, params: [] });
  assert.equal(bad.status, 400);
  assert.equal(JSON.parse(bad.body).error.code, -32600);
  const parse = await post('{"method":');
  assert.equal(parse.status, 500);
  assert.equal(JSON.parse(parse.body).error.code, -32700);
});

test('2.0 notification gets 204; batch answers each, skipping notifications', async () => {
  const n = await post({ jsonrpc: '2.0', method: 'echo', params: [] });
  assert.equal(n.status, 204);
  const b = await post([
    { jsonrpc: '2.0', method: 'echo', params: [1], id: 1 },
    { jsonrpc: '2.0', method: 'echo', params: [2] },
    { method: 'nope', id: 3 },
    42,
    { jsonrpc: '2.0', method: 'fail', id: 4 },
  ]);
  assert.equal(b.status, 200);
  assert.deepEqual(JSON.parse(b.body), [
    { jsonrpc: '2.0', result: [1], id: 1 },
    { result: null, error: { code: -32601, message: 'Method not found' }, id: 3 },
    { result: null, error: { code: -32600, message: 'Invalid Request object' } },
    { jsonrpc: '2.0', error: { code: -5, message: 'Invalid address' }, id: 4 },
  ]);
  assert.equal((await post([])).body.trim(), '[]');
  assert.equal((await post([{ jsonrpc: '2.0', method: 'echo' }])).status, 204);
});

test('named parameters map to declared positions; unknown names are -8', async () => {
  const r = await post({ jsonrpc: '2.0', method: 'echo', params: { c: 3, a: 1 }, id: 1 });
  assert.deepEqual(JSON.parse(r.body).result, [1, null, 3]);
  const u = await post({ jsonrpc: '2.0', method: 'echo', params: { z: 1 }, id: 1 });
  assert.deepEqual(JSON.parse(u.body).error, { code: -8, message: 'Unknown named parameter z' });
  const many = await post({ jsonrpc: '2.0', method: 'echo', params: [1, 2, 3, 4], id: 1 });
  assert.equal(JSON.parse(many.body).error.code, -1);
});

test('parameter checks name the parameter: -3 wrong type, -8 out of range; missing is -1 with usage', async () => {
  const t = await post({ jsonrpc: '2.0', method: 'typed', params: ['x'], id: 1 });
  assert.equal(JSON.parse(t.body).error.code, -3);
  assert.match(JSON.parse(t.body).error.message, /count/);
  const o = await post({ jsonrpc: '2.0', method: 'typed', params: [11], id: 1 });
  assert.deepEqual(JSON.parse(o.body).error, {
    code: -8,
    message: 'Invalid parameter count: expected 0..10, got 11',
  });
  const m = await post({ jsonrpc: '2.0', method: 'typed', params: [], id: 1 });
  assert.deepEqual(JSON.parse(m.body).error, { code: -1, message: 'typed "count" "label"' });
});

test('amounts print with 8 decimals, bigints as integers', async () => {
  const r = await post({ jsonrpc: '2.0', method: 'amount', id: 1 });
  assert.equal(
    r.body.trim(),
    '{"jsonrpc":"2.0","result":{"value":1.23456789,"big":1152921504606846976},"id":1}',
  );
});

test('401 without or with wrong credentials, WWW-Authenticate set', async () => {
  const none = await post({ method: 'uptime' }, null);
  assert.equal(none.status, 401);
  assert.equal(none.headers['www-authenticate'], 'Basic realm="jsonrpc"');
  const wrong = await post({ method: 'uptime' }, '__cookie__:00');
  assert.equal(wrong.status, 401);
  const get = await rawPost(server.port, '', cookie, {}, 'GET');
  assert.equal(get.status, 405);
});

test('body over the limit gets 413', async () => {
  const big = JSON.stringify({ method: 'echo', params: ['x'.repeat(70 * 1024)] });
  const r = await post(big);
  assert.equal(r.status, 413);
  // The server still answers afterwards.
  assert.equal((await post({ method: 'uptime', id: 1 })).status, 200);
});

test('random bodies never crash the server: always an HTTP answer', async () => {
  const bodies = randomRpcBodies(['echo', 'fail', 'crash', 'help', 'typed', 'uptime']);
  await fc.assert(
    fc.asyncProperty(bodies, async (body) => {
      const r = await post(body);
      assert.ok([200, 204, 400, 404, 500].includes(r.status), `status ${r.status} for ${body}`);
    }),
    { numRuns: 300 },
  );
});

test('help lists methods and explains one', async () => {
  const client = new RpcClient({ port: server.port, cookieFile: join(dir, '.cookie') });
  const all = await client.call<string>('help');
  assert.match(all, /^typed "count" "label"$/m);
  assert.doesNotMatch(all, /^echo/m); // Core's echo is a hidden method
  // Core's grouping: "== Category ==" headings, built-ins under Control, unknown ones under Tally.
  assert.match(all, /^== Control ==\ngetrpcinfo\nhelp \( "command" \)\nstop\nuptime$/m);
  assert.ok(all.indexOf('== Control ==') < all.indexOf('== Tally =='));
  assert.match(await client.call<string>('help', ['echo']), /Echo the parameters/);
  const one = await client.call<string>('help', ['help']);
  assert.match(one, /^help \( "command" \)\n\nList all commands/);
  assert.match(one, /\nArguments:\n1\. command +\(string, optional, default=all commands\) /);
  assert.match(one, /\nResult:\n/);
  assert.match(one, /\nExamples:\n> tally rpc help\n> curl /);
  assert.equal(await client.call('help', ['nosuch']), 'help: unknown command: nosuch');
  // A missing argument of a documented method is -1 with that same text (Core's usage error).
  await assert.rejects(
    client.call('help', [1, 2]),
    (e: unknown) => e instanceof RpcError && e.code === -1 && e.message === one,
  );
  assert.equal(typeof (await client.call('uptime')), 'number');
});

test('warmup answers -28 except for help/stop/uptime', async () => {
  server.setWarmup('Loading block index…');
  try {
    const client = new RpcClient({ port: server.port, cookieFile: join(dir, '.cookie') });
    await assert.rejects(client.call('echo'), (e: unknown) => e instanceof RpcError && e.code === -28);
    // A method registered only once the chain is up (getblockcount) answers -28 too, not -32601.
    await assert.rejects(
      client.call('getblockcount'),
      (e: unknown) => e instanceof RpcError && e.code === -28 && /Loading block index/.test(e.message),
    );
    await client.call('uptime');
  } finally {
    server.setWarmup(null);
  }
});

test('client: result, RpcError, and a clear message when the node is down', async () => {
  const client = new RpcClient({ port: server.port, cookieFile: join(dir, '.cookie') });
  assert.deepEqual(await client.call('echo', [1, 2]), [1, 2]);
  await assert.rejects(client.call('fail'), (e: unknown) => e instanceof RpcError && e.code === -5);
  const nocookie = new RpcClient({ port: server.port, cookieFile: join(dir, 'missing') });
  await assert.rejects(nocookie.call('uptime'), /could not locate RPC credentials/);
  const free = await new Promise<number>((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
  const down = new RpcClient({ port: free, cookieFile: join(dir, '.cookie') });
  await assert.rejects(
    down.call('uptime'),
    (e: unknown) =>
      e instanceof RpcConnectionError &&
      /could not connect to the server 127\.0\.0\.1:\d+: is the node running/.test(e.message),
  );
});

test('user/password auth; stop calls back once and cookie is removed on stop', async () => {
  const d = mkdtempSync(join(tmpdir(), 'tally-rpc2-'));
  let stopped = 0;
  const s = new RpcServer({ port: 0, auth: { cookieDir: d }, onStop: () => void stopped++ });
  await s.start();
  assert.ok(existsSync(join(d, '.cookie')));
  const c = new RpcClient({ port: s.port, cookieFile: join(d, '.cookie') });
  assert.equal(await c.call('stop'), 'Tally server stopping');
  await new Promise((r) => setImmediate(r));
  assert.equal(stopped, 1);
  await s.stop();
  assert.equal(existsSync(join(d, '.cookie')), false);
  rmSync(d, { recursive: true, force: true });

  const p = new RpcServer({ port: 0, auth: { user: 'alice', password: 'secret' }, authFailDelayMs: 1 });
  await p.start();
  try {
    assert.equal(
      typeof (await new RpcClient({ port: p.port, user: 'alice', password: 'secret' }).call('uptime')),
      'number',
    );
    await assert.rejects(
      new RpcClient({ port: p.port, user: 'alice', password: 'wrong' }).call('uptime'),
      /incorrect rpcuser or rpcpassword/,
    );
  } finally {
    await p.stop();
  }
  assert.equal(stopCalls, 0);
});

test('non-loopback bind needs rpcallowip; the allow-list parses CIDR and netmasks', () => {
  assert.throws(
    () => new RpcServer({ port: 0, bind: ['0.0.0.0'], auth: { user: 'u', password: 'p' } }),
    /not a loopback address.*rpcallowip/,
  );
  assert.doesNotThrow(
    () =>
      new RpcServer({
        port: 0,
        bind: ['0.0.0.0'],
        allowIps: ['10.0.0.0/8'],
        auth: { user: 'u', password: 'p' },
      }),
  );
  const list = parseAllowList(['10.0.0.0/8', '192.168.1.0/255.255.255.0', '1.2.3.4', 'fd00::/8']);
  assert.ok(list.check('10.1.2.3'));
  assert.ok(list.check('192.168.1.77'));
  assert.ok(!list.check('192.168.2.1'));
  assert.ok(list.check('1.2.3.4'));
  assert.ok(list.check('fd00::1', 'ipv6'));
  assert.throws(() => parseAllowList(['10.0.0.0/33']), /rpcallowip/);
  assert.throws(() => parseAllowList(['example.com']), /rpcallowip/);
  assert.throws(() => parseAllowList(['10.0.0.0/255.0.255.0']), /netmask/);
});

const external = Object.values(networkInterfaces())
  .flat()
  .find((a) => a !== undefined && a.family === 'IPv4' && !a.internal)?.address;

test(
  'bound beyond loopback: clients outside rpcallowip get 403, allowed ones reach authentication',
  { skip: external === undefined ? 'no non-loopback IPv4 address on this machine' : false },
  async () => {
    const post = (port: number) =>
      new Promise<number>((resolve, reject) => {
        const req = http.request({ host: external, port, method: 'POST', path: '/', agent: false }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        });
        req.on('error', reject);
        req.end('{"method":"uptime"}');
      });
    const serve = async (allowIps: string[]) => {
      const s = new RpcServer({
        port: 0,
        bind: [external!],
        allowIps,
        auth: { user: 'u', password: 'p' },
        authFailDelayMs: 1,
      });
      await s.start();
      return s;
    };
    const closed = await serve(['203.0.113.0/24']);
    try {
      assert.equal(await post(closed.port), 403);
    } finally {
      await closed.stop();
    }
    const open = await serve([`${external}/32`]);
    try {
      assert.equal(await post(open.port), 401, 'allowed, but still needs credentials');
    } finally {
      await open.stop();
    }
  },
);

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RpcServer } from '../../src/rpc/server.js';
import { RpcClient } from '../../src/rpc/client.js';
import { registerWalletMethods } from '../../src/rpc/wallet-methods.js';
import { WalletManager } from '../../src/wallet/manager.js';
import { addressToScript } from '../../src/primitives/address.js';
import { feeFor } from '../../src/wallet/coinselect.js';
import type { Tx } from '../../src/primitives/tx.js';
import fc from 'fast-check';
import { ChainFixture, coinbase, COIN } from '../wallet/chain-fixture.js';
import { randomRpcBodies, randomRpcParams, rawPost, rpcCode as code } from './helpers.js';

const PREFIXES = { pubkeyHash: 111, scriptHash: 196, wif: 239 };

test('wallet RPC: create, address, balances, lock/unlock, send, errors with Core codes', async () => {
  const s = await walletServer({ feeRatePerKb: 1000n });
  const { dir, sent, server, rpc, chain } = s;
  try {
    await assert.rejects(rpc.call('getnewaddress'), code(-18));
    const created = await rpc.call<{ name: string; mnemonic: string }>('createwallet', {
      wallet_name: 'alice',
      passphrase: 'pw',
    });
    assert.equal(created.name, 'alice');
    assert.equal(created.mnemonic.split(' ').length, 12);
    await assert.rejects(rpc.call('createwallet', ['alice']), code(-4));
    const addr = await rpc.call<string>('getnewaddress', ['salary']);
    s.mine(addr, 3);
    assert.deepEqual(await rpc.call('getbalances'), {
      mine: { trusted: 20, untrusted_pending: 0, immature: 10 },
      lastprocessedblock: { hash: chain.blocks[2].hashHex(), height: 2 },
    });
    const dest = 'mipcBbFg9gMiCh81Kj8tqqdgoZub1ZJRfn';
    await assert.rejects(rpc.call('sendtoaddress', [dest, 1]), code(-13));
    await assert.rejects(rpc.call('walletpassphrase', ['nope', 60]), code(-14));
    assert.equal(await rpc.call('walletpassphrase', ['pw', 60]), null);
    await assert.rejects(rpc.call('sendtoaddress', ['mipcBbFg9gMiCh81Kj8tqqdgoZub1ZJRfX', 1]), code(-5));
    await assert.rejects(rpc.call('sendtoaddress', [dest, 50]), code(-6));
    await assert.rejects(rpc.call('sendtoaddress', [dest, -1]), code(-3));
    const txid = await rpc.call<string>('sendtoaddress', { address: dest, amount: '1.5', fee_rate: 2 });
    assert.equal(sent.length, 1);
    assert.equal(sent[0].txidHex(), txid);
    const history = await rpc.call<{ category: string; amount: number; fee?: number }[]>('listtransactions');
    const send = history.find((e) => e.category === 'send')!;
    assert.equal(send.amount, -1.5);
    assert.ok(send.fee! < 0);
    const tx = await rpc.call<{ amount: number; confirmations: number }>('gettransaction', [txid]);
    assert.equal(tx.confirmations, 0);
    assert.equal(await rpc.call('walletlock'), null);
    await assert.rejects(rpc.call('sendtoaddress', [dest, 1]), code(-13));
    const info = await rpc.call<{ ismine: boolean; hdkeypath: string; labels: string[] }>('getaddressinfo', [
      addr,
    ]);
    assert.deepEqual([info.ismine, info.hdkeypath, info.labels], [true, "m/44'/1'/0'/0/0", ['salary']]);
    const backup = join(dir, 'alice-backup.json');
    await rpc.call('backupwallet', [backup]);
    assert.ok(existsSync(backup));

    // Two wallets: calls must name one through /wallet/<name>.
    await rpc.call('createwallet', ['bob']);
    await assert.rejects(rpc.call('getbalance'), code(-19));
    const bob = new RpcClient({ port: server.port, cookieFile: join(dir, '.cookie'), wallet: 'bob' });
    assert.equal(await bob.call('getbalance'), 0);
    await assert.rejects(bob.call('walletlock'), code(-15));
    assert.deepEqual(await rpc.call('listwallets'), ['alice', 'bob']);
  } finally {
    await s.close();
  }
});

/** A server with the wallet methods over one wallet manager; blocks paying `addr` fund the wallet. */
async function walletServer(
  opts: { estimate?: (target: number) => bigint | null; feeRatePerKb?: bigint } = {},
) {
  const dir = mkdtempSync(join(tmpdir(), 'tally-wrpc-'));
  const wallets = new WalletManager({
    dir: join(dir, 'wallets'),
    network: 'regtest',
    prefixes: PREFIXES,
    coinbaseMaturity: 1,
  });
  const sent: Tx[] = [];
  const server = new RpcServer({ port: 0, auth: { cookieDir: dir }, authFailDelayMs: 1 });
  registerWalletMethods(server, {
    wallets,
    broadcast: async (tx) => void sent.push(tx),
    defaultFeeRatePerKb: opts.feeRatePerKb ?? 5000n,
    estimateFeeRatePerKb: opts.estimate,
  });
  await server.start();
  const rpc = new RpcClient({ port: server.port, cookieFile: join(dir, '.cookie') });
  const chain = new ChainFixture();
  const mine = (addr: string, n: number, value = 10n * COIN) => {
    for (let i = 0; i < n; i++) {
      const h = chain.blocks.length;
      const b = chain.next([coinbase(h, addressToScript(addr, PREFIXES), value)]);
      wallets.onBlockConnected(b, chain.push(b));
    }
  };
  const close = async () => {
    await server.stop();
    wallets.close();
    rmSync(dir, { recursive: true, force: true });
  };
  return { dir, wallets, sent, server, rpc, chain, mine, close };
}

test('wallet RPC: createwallet/loadwallet/getwalletinfo/getbalance/listunspent/gettransaction and their bad-param codes', async () => {
  const s = await walletServer();
  const { rpc } = s;
  try {
    await assert.rejects(rpc.call('createwallet', ['w', true]), code(-8)); // watch-only
    await assert.rejects(rpc.call('createwallet', ['../escape']), code(-4));
    await assert.rejects(rpc.call('createwallet', [7]), code(-3));
    await assert.rejects(rpc.call('createwallet', []), code(-1));
    await assert.rejects(
      rpc.call('createwallet', { wallet_name: 'w', mnemonic: 'abandon abandon' }),
      code(-8),
    );
    await assert.rejects(rpc.call('loadwallet', ['nosuch']), code(-18));
    await assert.rejects(rpc.call('getwalletinfo'), code(-18));
    await rpc.call('createwallet', ['w']);
    await assert.rejects(rpc.call('loadwallet', ['w']), code(-35)); // already loaded
    await assert.rejects(rpc.call('getnewaddress', ['', 'bech32']), code(-8));
    await assert.rejects(rpc.call('getnewaddress', [5]), code(-3));
    const addr = await rpc.call<string>('getnewaddress');
    const other = await rpc.call<string>('getnewaddress');
    s.mine(addr, 3);
    s.mine(other, 1, 2n * COIN);

    // Unload and load again: the file keeps the coins.
    assert.deepEqual(await rpc.call('unloadwallet', ['w']), {});
    assert.deepEqual(await rpc.call('loadwallet', ['w']), { name: 'w' });
    const info = await rpc.call<Record<string, unknown>>('getwalletinfo');
    assert.equal(info.walletname, 'w');
    assert.deepEqual([info.balance, info.immature_balance, info.unconfirmed_balance], [30, 2, 0]);
    assert.equal(info.txcount, 4);
    assert.ok((info.keypoolsize as number) >= 20, 'the lookahead window is counted');
    assert.equal(info.unlocked_until, undefined, 'unencrypted: no unlocked_until');

    assert.equal(await rpc.call('getbalance'), 30);
    assert.equal(await rpc.call('getbalance', ['*', 1]), 30);
    await assert.rejects(rpc.call('getbalance', ['x']), code(-8));

    const all = await rpc.call<{ address: string; amount: number; confirmations: number }[]>('listunspent');
    assert.deepEqual(
      all.map((u) => [u.address, u.amount, u.confirmations]).sort(),
      [
        [addr, 10, 2],
        [addr, 10, 3],
        [addr, 10, 4],
      ],
      'the immature coinbase is left out',
    );
    assert.equal((await rpc.call<unknown[]>('listunspent', [3])).length, 2);
    assert.equal((await rpc.call<unknown[]>('listunspent', [1, 2])).length, 1);
    assert.equal((await rpc.call<unknown[]>('listunspent', [1, 9999, [other]])).length, 0);
    await assert.rejects(rpc.call('listunspent', ['1']), code(-3));
    await assert.rejects(rpc.call('listunspent', [-1]), code(-8));
    await assert.rejects(rpc.call('listunspent', [1, 9, 'x']), code(-3));

    await assert.rejects(rpc.call('gettransaction', ['00'.repeat(32)]), code(-5));
    await assert.rejects(rpc.call('gettransaction', ['zz']), code(-8));
    const cb = s.chain.blocks[0].txs[0].txidHex();
    const tx = await rpc.call<Record<string, unknown>>('gettransaction', [cb]);
    assert.deepEqual([tx.amount, tx.confirmations, tx.blockheight], [10, 4, 0]);
    assert.equal(tx.hex, Buffer.from(s.chain.blocks[0].txs[0].encode()).toString('hex'));
    // A label filters (Core's filter_label); an empty one is -8.
    assert.deepEqual(await rpc.call('listtransactions', ['lbl']), []);
    await assert.rejects(rpc.call('listtransactions', ['']), code(-8));
    await assert.rejects(rpc.call('listtransactions', ['*', -1]), code(-8));
    const listed = await rpc.call<{ category: string }[]>('listtransactions', ['*', 2]);
    assert.equal(listed.length, 2);
  } finally {
    await s.close();
  }
});

test('wallet RPC: sends take the fee from estimatesmartfee, else the fallback, else fee_rate; bad amounts and rates', async () => {
  let estimate: bigint | null = null;
  const targets: number[] = [];
  const s = await walletServer({
    estimate: (t) => {
      targets.push(t);
      return estimate;
    },
  });
  const { rpc } = s;
  try {
    await rpc.call('createwallet', ['w']);
    s.mine(await rpc.call<string>('getnewaddress'), 4);
    const dest = 'mipcBbFg9gMiCh81Kj8tqqdgoZub1ZJRfn';
    type Verbose = { txid: string; fee_reason: string };
    // Core's verbose result is {txid, fee_reason}: the fee is the wallet's record of it.
    const fees = new Map<string, number>();
    const send = async (extra: Record<string, unknown>) => {
      const r = await rpc.call<Verbose>('sendtoaddress', {
        address: dest,
        amount: 1,
        verbose: true,
        ...extra,
      });
      fees.set(r.txid, -(await rpc.call<{ fee: number }>('gettransaction', [r.txid])).fee);
      return r;
    };
    // The wallet grinds R low, as Core's, and sizes each signature at the largest that leaves (70
    // bytes of DER and the hash type: a 72-byte push); a real one is that or, one time in 256 per
    // byte, shorter (a short S or R). So the fee lies between the rate on the actual size and the
    // rate on the size the estimate assumed, as Core's assert_fee_amount allows. (A fixed 1 %
    // margin failed on a short signature when the wallet did not grind: one run in about a
    // hundred.)
    const assertFee = (r: Verbose, ratePerKb: bigint) => {
      const tx = s.sent.find((t) => t.txidHex() === r.txid)!;
      const short = tx.inputs.reduce((n, i) => n + 72 - (1 + i.scriptSig[0]), 0);
      assert.ok(short >= 0, 'a signature longer than the estimate');
      const fee = BigInt(Math.round(fees.get(r.txid)! * 1e8));
      assert.ok(
        fee >= feeFor(tx.size, ratePerKb) && fee <= feeFor(tx.size + short, ratePerKb),
        `fee ${fee} for ${tx.size} bytes (signatures ${short} bytes under the estimate) at ${ratePerKb}/kB`,
      );
    };
    const fallback = await send({});
    assert.equal(fallback.fee_reason, 'Fallback fee');
    assertFee(fallback, 5000n);
    estimate = 20_000n;
    const estimated = await send({ conf_target: 3 });
    assert.equal(estimated.fee_reason, 'Fee estimation');
    assert.deepEqual(targets, [6, 3], 'conf_target reaches the estimator (default 6)');
    assertFee(estimated, 20_000n);
    const explicit = await send({ fee_rate: 3 });
    assert.equal(explicit.fee_reason, 'Fee rate');
    assertFee(explicit, 3000n);
    // Change goes to a fresh change-branch address every time.
    const changes = s.sent.map((t) =>
      t.outputs.find(
        (o) => !Buffer.from(o.scriptPubKey).equals(Buffer.from(addressToScript(dest, PREFIXES))),
      )!,
    );
    assert.equal(new Set(changes.map((o) => Buffer.from(o.scriptPubKey).toString('hex'))).size, 3);

    await assert.rejects(rpc.call('sendtoaddress', [dest, 0]), code(-3));
    await assert.rejects(rpc.call('sendtoaddress', [dest, '1.123456789']), code(-3));
    await assert.rejects(rpc.call('sendtoaddress', [dest, 'abc']), code(-3));
    await assert.rejects(rpc.call('sendtoaddress', [dest]), code(-1));
    await assert.rejects(rpc.call('sendtoaddress', { address: dest, amount: 1, fee_rate: -1 }), code(-3));
    await assert.rejects(rpc.call('sendtoaddress', { address: dest, amount: 1, fee_rate: 'x' }), code(-3));
    await assert.rejects(rpc.call('sendtoaddress', { address: dest, amount: 1, conf_target: 0 }), code(-8));
    await assert.rejects(rpc.call('sendtoaddress', [42, 1]), code(-3));
    assert.equal(s.sent.length, 3);
  } finally {
    await s.close();
  }
});

test('wallet RPC: encryptwallet encrypts at rest and locks; passphrase calls check their params', async () => {
  const s = await walletServer();
  const { rpc } = s;
  try {
    const { mnemonic } = await rpc.call<{ mnemonic: string }>('createwallet', ['w']);
    const file = join(s.dir, 'wallets', 'w.json');
    assert.ok(readFileSync(file, 'utf8').includes(mnemonic), 'unencrypted until encryptwallet');
    await assert.rejects(rpc.call('walletpassphrase', ['x', 10]), code(-15));
    await assert.rejects(rpc.call('walletpassphrasechange', ['x', 'y']), code(-15));
    await assert.rejects(rpc.call('encryptwallet', []), code(-1));
    assert.match(await rpc.call<string>('encryptwallet', ['secret']), /wallet encrypted/);
    assert.ok(!readFileSync(file, 'utf8').includes(mnemonic.split(' ')[0] + ' '), 'no mnemonic in clear');
    // scrypt calibrated to ~100 ms here (N a power of two in 2^14..2^17), then AES-256-GCM: a
    // 12-byte IV and a 16-byte tag.
    const { secret } = JSON.parse(readFileSync(file, 'utf8')) as {
      secret: { encrypted: Record<string, unknown> };
    };
    const N = secret.encrypted.N as number;
    assert.deepEqual([secret.encrypted.kdf, secret.encrypted.r, secret.encrypted.p], ['scrypt', 8, 1]);
    assert.ok(Number.isInteger(Math.log2(N)) && N >= 2 ** 14 && N <= 2 ** 17, `N ${N}`);
    assert.match(String(secret.encrypted.iv), /^[0-9a-f]{24}$/);
    assert.match(String(secret.encrypted.tag), /^[0-9a-f]{32}$/);
    await assert.rejects(rpc.call('encryptwallet', ['again']), code(-15));
    assert.equal((await rpc.call<{ unlocked_until: number }>('getwalletinfo')).unlocked_until, 0);
    s.mine(await rpc.call<string>('getnewaddress'), 2); // addresses need no passphrase
    await assert.rejects(rpc.call('sendtoaddress', ['mipcBbFg9gMiCh81Kj8tqqdgoZub1ZJRfn', 1]), code(-13));
    await assert.rejects(rpc.call('walletpassphrase', ['', 10]), code(-8));
    await assert.rejects(rpc.call('walletpassphrase', ['secret', -1]), code(-8));
    await assert.rejects(rpc.call('walletpassphrase', ['secret', '10']), code(-3));
    await assert.rejects(rpc.call('walletpassphrase', ['secret']), code(-1));
    await assert.rejects(rpc.call('walletpassphrasechange', ['wrong', 'new']), code(-14));
    const before = Math.floor(Date.now() / 1000);
    assert.equal(await rpc.call('walletpassphrase', ['secret', 100]), null);
    const until = (await rpc.call<{ unlocked_until: number }>('getwalletinfo')).unlocked_until;
    assert.ok(until >= before + 99 && until <= before + 102, `unlocked_until ${until}`);
    assert.match(
      await rpc.call<string>('sendtoaddress', ['mipcBbFg9gMiCh81Kj8tqqdgoZub1ZJRfn', 1]),
      /^[0-9a-f]{64}$/,
    );
    assert.equal(await rpc.call('walletlock'), null);
    assert.equal((await rpc.call<{ unlocked_until: number }>('getwalletinfo')).unlocked_until, 0);
    await assert.rejects(rpc.call('backupwallet', []), code(-1));
    await assert.rejects(rpc.call('backupwallet', [join(s.dir, 'no', 'such', 'dir', 'b.json')]), code(-4));
  } finally {
    await s.close();
  }
});

test('random requests at the wallet methods always get a JSON-RPC answer', async () => {
  const s = await walletServer();
  try {
    await s.rpc.call('createwallet', ['w']);
    const addr = await s.rpc.call<string>('getnewaddress');
    s.mine(addr, 3);
    const cookie = readFileSync(join(s.dir, '.cookie'), 'utf8');
    // backupwallet is left out: it writes wherever its argument points.
    const methods = [
      'createwallet',
      'loadwallet',
      'unloadwallet',
      'listwallets',
      'getwalletinfo',
      'getnewaddress',
      'getrawchangeaddress',
      'getbalance',
      'getbalances',
      'listunspent',
      'sendtoaddress',
      'listtransactions',
      'gettransaction',
      'walletlock',
      'getaddressinfo',
      'setlabel',
    ];
    const value = fc.oneof(
      fc.constantFrom(addr, 'w', '*', s.chain.blocks[0].txs[0].txidHex(), 'legacy'),
      fc.integer({ min: -2, max: 60 }),
      fc.double(),
      fc.boolean(),
      fc.jsonValue({ maxDepth: 2 }),
    );
    const params = randomRpcParams(
      value,
      ['wallet_name', 'address', 'amount', 'fee_rate', 'label', 'minconf', 'txid', 'verbose'],
      8,
    );
    await fc.assert(
      fc.asyncProperty(randomRpcBodies(methods, params), async (body) => {
        const r = await rawPost(s.server.port, body, cookie);
        assert.ok([200, 204, 400, 404, 500].includes(r.status), `status ${r.status} for ${body}`);
        if (r.status !== 204) JSON.parse(r.body);
      }),
      { numRuns: 300 },
    );
    assert.equal(typeof (await s.server.call('uptime', [])), 'number');
  } finally {
    await s.close();
  }
});

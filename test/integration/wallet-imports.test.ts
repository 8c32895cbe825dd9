// Imported keys and watch-only scripts against one real `tally node` (issue 15), with Core's
// field names and error codes: a WIF key made by an independent library (`wif`, from a key this
// test draws) imports with importprivkey, its coin is found by the rescan and spent; importaddress,
// importpubkey and importmulti watch without spending (getbalances.watchonly, listunspent's
// spendable/solvable, getaddressinfo's ismine/iswatchonly, listtransactions' involvesWatchonly);
// in an encrypted wallet an imported key needs the wallet unlocked and is not in the file in clear.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bytesToHex } from '../../src/primitives/bytes.js';
import { WALLET_FILE_VERSION } from '../../src/wallet/store.js';
import { independentKey } from '../rpc/helpers.js';
import { rpcFails as fails, startNode, stopAll, walletRpc } from './cluster.js';

after(stopAll);

interface Unspent {
  txid: string;
  address: string;
  amount: number;
  spendable: boolean;
  solvable: boolean;
}

test('imported keys spend and watched scripts are watch-only, as Core', async () => {
  const n = await startNode();
  await n.rpc('createwallet', ['miner']);
  const miner = walletRpc(n, 'miner');
  const mAddr = await miner<string>('getnewaddress');
  await miner('generatetoaddress', [101, mAddr]);

  // A key made by another library, paid 2 coins, imported into a second wallet.
  const key = independentKey();
  await miner('sendtoaddress', [key.address, 2]);
  await miner('generatetoaddress', [1, mAddr]);
  await n.rpc('createwallet', ['imp']);
  const imp = walletRpc(n, 'imp');
  await assert.rejects(imp('importprivkey', ['notakey']), fails(-5, /^Invalid private key encoding$/));
  assert.equal(await imp('importprivkey', [key.wif, 'imported']), null);
  assert.equal(await imp('getbalance'), 2);
  const info = await imp<Record<string, unknown>>('getaddressinfo', [key.address]);
  assert.equal(info.ismine, true);
  assert.equal(info.iswatchonly, false);
  assert.equal(info.solvable, true);
  assert.equal(info.pubkey, key.pubkey);
  assert.deepEqual(info.labels, ['imported']);
  assert.equal(await imp('dumpprivkey', [key.address]), key.wif);
  const [coin] = await imp<Unspent[]>('listunspent');
  assert.deepEqual([coin.address, coin.amount, coin.spendable, coin.solvable], [key.address, 2, true, true]);
  // Its coin spends: back to the miner, confirmed.
  const spent = await imp<string>('sendtoaddress', [mAddr, 1.5]);
  await miner('generatetoaddress', [1, mAddr]);
  assert.equal((await imp<{ confirmations: number }>('gettransaction', [spent])).confirmations, 1);
  const left = await imp<number>('getbalance');
  assert.ok(left > 0.49 && left < 0.5, `left ${left}`);

  // Watch-only: an address of the miner, and its public key.
  await n.rpc('createwallet', ['watch']);
  const watch = walletRpc(n, 'watch');
  const watched = await miner<string>('getnewaddress');
  await miner('sendtoaddress', [watched, 3]);
  await miner('generatetoaddress', [1, mAddr]);
  await assert.rejects(
    watch('importaddress', [watched, '', false, true]),
    fails(-5, /Cannot use the p2sh flag with an address - use a script instead/),
  );
  await assert.rejects(watch('importaddress', ['zz']), fails(-5, /Invalid Tally address or script/));
  assert.equal(await watch('importaddress', [watched, 'theirs']), null);
  const balances = await watch<{ mine: { trusted: number }; watchonly: { trusted: number } }>('getbalances');
  assert.equal(balances.mine.trusted, 0);
  assert.equal(balances.watchonly.trusted, 3);
  assert.equal(await watch('getbalance'), 0);
  assert.equal(await watch('getbalance', ['*', 0, true]), 3);
  const [wcoin] = await watch<Unspent[]>('listunspent');
  assert.deepEqual([wcoin.amount, wcoin.spendable, wcoin.solvable], [3, false, false]);
  const winfo = await watch<Record<string, unknown>>('getaddressinfo', [watched]);
  assert.deepEqual([winfo.ismine, winfo.iswatchonly, winfo.solvable], [false, true, false]);
  assert.deepEqual(await watch('listtransactions'), []);
  const wtx = await watch<{ involvesWatchonly: boolean; amount: number; category: string }[]>(
    'listtransactions',
    ['*', 10, 0, true],
  );
  assert.deepEqual(
    wtx.map((e) => [e.involvesWatchonly, e.amount, e.category]),
    [[true, 3, 'receive']],
  );
  await assert.rejects(watch('sendtoaddress', [mAddr, 1]), fails(-6));
  // importpubkey makes it solvable.
  const pub = (await miner<{ pubkey: string }>('getaddressinfo', [watched])).pubkey;
  await assert.rejects(watch('importpubkey', ['02ab']), fails(-5, /Pubkey is not a valid public key/));
  await assert.rejects(watch('importpubkey', ['xyz']), fails(-5, /Pubkey must be a hex string/));
  assert.equal(await watch('importpubkey', [pub, '', false]), null);
  assert.equal((await watch<Unspent[]>('listunspent'))[0].solvable, true);

  // importmulti: Core's per-request results.
  const other = independentKey();
  const results = await watch<{ success: boolean; error?: { code: number; message: string } }[]>(
    'importmulti',
    [
      [
        { scriptPubKey: { address: other.address }, timestamp: 'now', watchonly: true, label: 'multi' },
        { scriptPubKey: { address: 'nonsense' }, timestamp: 0 },
        { scriptPubKey: { address: other.address } },
        { scriptPubKey: { address: other.address }, timestamp: 0, keys: [other.wif], watchonly: true },
      ],
      { rescan: false },
    ],
  );
  assert.deepEqual(
    results.map((r) => [r.success, r.error?.code]),
    [
      [true, undefined],
      [false, -5],
      [false, -3],
      [false, -8],
    ],
  );
  assert.match(results[2].error!.message, /Missing required timestamp field for key/);
  assert.deepEqual((await watch<{ labels: string[] }>('getaddressinfo', [other.address])).labels, ['multi']);

  // Encrypted: importing a key needs the wallet unlocked; the key is not in the file in clear.
  await n.rpc('createwallet', { wallet_name: 'enc', passphrase: 'pass phrase' });
  const enc = walletRpc(n, 'enc');
  const third = independentKey();
  await miner('sendtoaddress', [third.address, 1]);
  await miner('generatetoaddress', [1, mAddr]);
  await assert.rejects(enc('importprivkey', [third.wif]), fails(-13));
  await assert.rejects(enc('importmulti', [[]]), fails(-13));
  await enc('walletpassphrase', ['pass phrase', 60]);
  await enc('importprivkey', [third.wif, 'enc']);
  assert.equal(await enc('getbalance'), 1);
  await enc('walletlock');
  await assert.rejects(enc('dumpprivkey', [third.address]), fails(-13));
  const file = readFileSync(n.view(join(n.networkDir, 'wallets', 'enc.json')), 'utf8');
  assert.ok(!file.includes(bytesToHex(third.sk)), 'the imported key is in the file in clear');
  assert.equal(JSON.parse(file).version, WALLET_FILE_VERSION);
  await n.rpc('unloadwallet', ['enc']);
  await n.rpc('loadwallet', ['enc']);
  await enc('walletpassphrase', ['pass phrase', 60]);
  assert.equal(await enc('dumpprivkey', [third.address]), third.wif);
  // A new passphrase seals the key again: it still opens.
  await enc('walletpassphrasechange', ['pass phrase', 'other phrase']);
  await enc('walletlock');
  await enc('walletpassphrase', ['other phrase', 60]);
  assert.equal(await enc('dumpprivkey', [third.address]), third.wif);
  const sent = await enc<string>('sendtoaddress', [mAddr, 0.5]);
  assert.equal(typeof sent, 'string');
});

test("dumpwallet writes Core's format, importwallet of it gives a fresh wallet the same balance, restorewallet loads a backup", async () => {
  const n = await startNode();
  await n.rpc('createwallet', ['src']);
  const src = walletRpc(n, 'src');
  const addr = await src<string>('getnewaddress', ['my coins']);
  await src('generatetoaddress', [102, addr]);
  const key = independentKey();
  await src('importprivkey', [key.wif, 'from elsewhere', false]);
  const pay = await src<string>('getnewaddress', ['pay me']);
  await src('sendtoaddress', [key.address, 1.25]);
  await src('sendtoaddress', [pay, 0.5]);
  await src('generatetoaddress', [1, addr]);
  const balance = await src<number>('getbalance');
  const dir = mkdtempSync(join(tmpdir(), 'tally-dump-'));
  try {
    const file = join(dir, 'dump.txt');
    const { filename } = await src<{ filename: string }>('dumpwallet', [file]);
    assert.equal(filename, file);
    const text = readFileSync(file, 'utf8');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.match(text, /^# Wallet dump created by Tally\n# \* Created on \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\n/);
    assert.match(text, /\n# \* Best block at time of backup was 103 \([0-9a-f]{64}\),\n# {3}mined on /);
    assert.match(text, /\n# extended private masterkey: [tx]prv[1-9A-HJ-NP-Za-km-z]{100,}\n/);
    const lineOf = (address: string) => text.split('\n').find((l) => l.includes(`# addr=${address}`)) ?? '';
    const hdLine = /^\S+ (\S+) label=my%20coins # addr=\S+,hdkeypath=m\/44'\/1'\/0'\/0\/0$/.exec(
      lineOf(addr),
    );
    assert.ok(hdLine, lineOf(addr));
    // An HD key's time is the chain's birth: when createwallet made the phrase, minutes ago.
    const born = Date.parse(hdLine[1]);
    assert.ok(Math.abs(Date.now() - born) < 600_000, `HD key born ${hdLine[1]}`);
    assert.match(lineOf(key.address), new RegExp(`^${key.wif} \\S+Z label=from%20elsewhere # addr=`));
    assert.match(text, / change=1 # addr=\S+,hdkeypath=m\/44'\/1'\/0'\/1\/0\n/);
    assert.match(text, / reserve=1 # addr=/);
    assert.match(text, /\n# End of dump\n$/);
    await assert.rejects(
      src('dumpwallet', [file]),
      fails(-8, /already exists\. If you are sure this is what you want, move it out of the way first/),
    );

    // A fresh wallet importing the dump finds every coin and label.
    await n.rpc('createwallet', ['fresh']);
    const fresh = walletRpc(n, 'fresh');
    await assert.rejects(
      fresh('importwallet', [join(dir, 'missing.txt')]),
      fails(-8, /Cannot open wallet dump file/),
    );
    assert.equal(await fresh('importwallet', [file]), null);
    assert.equal(await fresh('getbalance'), balance);
    assert.deepEqual((await fresh<{ labels: string[] }>('getaddressinfo', [pay])).labels, ['pay me']);
    assert.deepEqual((await fresh<{ labels: string[] }>('getaddressinfo', [key.address])).labels, [
      'from elsewhere',
    ]);

    // restorewallet from a backupwallet file.
    const backup = join(dir, 'backup.json');
    await src('backupwallet', [backup]);
    assert.deepEqual(await n.rpc('restorewallet', ['restored', backup]), { name: 'restored' });
    assert.equal(await walletRpc(n, 'restored')('getbalance'), balance);
    await assert.rejects(n.rpc('restorewallet', ['restored', backup]), fails(-36, /Database already exists/));
    await assert.rejects(
      n.rpc('restorewallet', ['other', join(dir, 'nope.json')]),
      fails(-8, /Backup file does not exist/),
    );
    await assert.rejects(n.rpc('restorewallet', ['other', file]), fails(-4));
    assert.ok(
      !(await n.rpc<{ wallets: { name: string }[] }>('listwalletdir')).wallets.some(
        (w) => w.name === 'other',
      ),
    );

    // Locked: no dump.
    await n.rpc('createwallet', { wallet_name: 'locked', passphrase: 'pw' });
    await assert.rejects(walletRpc(n, 'locked')('dumpwallet', [join(dir, 'l.txt')]), fails(-13));
    await assert.rejects(walletRpc(n, 'locked')('importwallet', [file]), fails(-13));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

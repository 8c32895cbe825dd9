// Core's wallet upkeep methods against one real `tally node` (issue 15), with Core's parameters,
// results and error codes: importprunedfunds/removeprunedfunds (a transaction added with its
// gettxoutproof and no rescan, the proof checked against the block index); setwalletflag
// avoid_reuse (coins of addresses spent from kept out of sends, getbalances' used, listunspent's
// reused); sethdseed (a new chain from a WIF key's bytes or a random seed, computed here with
// @scure/bip32 from the key, the old keys still spending, in clear and encrypted wallets);
// upgradewallet (a version 2 file read and reported as upgraded to the current version).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HDKey } from '@scure/bip32';
import { getParams } from '../../src/consensus/params.js';
import { hash160 } from '../../src/crypto/hash.js';
import { encodeAddress } from '../../src/primitives/address.js';
import { WALLET_FILE_VERSION } from '../../src/wallet/store.js';
import { independentKey } from '../rpc/helpers.js';
import { rpcFails as fails, startNode, stopAll, walletRpc, type TallyProcess } from './cluster.js';

after(stopAll);

/** A hex proof with one byte changed (xor 1) at `offset`. */
function flip(hex: string, offset: number): string {
  const b = Buffer.from(hex, 'hex');
  b[offset] ^= 1;
  return b.toString('hex');
}

test('importprunedfunds adds a proven transaction without a rescan; removeprunedfunds takes it out', async () => {
  const n = await startNode({ args: ['--connect', '0'] });
  await n.rpc('createwallet', ['miner']);
  const miner = walletRpc(n, 'miner');
  const mAddr = await miner<string>('getnewaddress');
  await miner('generatetoaddress', [101, mAddr]);
  const key = independentKey();
  const watched = independentKey();
  const toKey = await miner<string>('sendtoaddress', [key.address, 2]);
  const toWatched = await miner<string>('sendtoaddress', [watched.address, 3]);
  const toNobody = await miner<string>('sendtoaddress', [independentKey().address, 1]);
  const [block] = await miner<string[]>('generatetoaddress', [1, mAddr]);
  const raw = (txid: string) => n.rpc<string>('getrawtransaction', [txid, false, block]);
  const proof = (txid: string) => n.rpc<string>('gettxoutproof', [[txid]]);

  // The key and the watched address come without a rescan: the wallet has not seen their coins.
  await n.rpc('createwallet', ['pruned']);
  const w = walletRpc(n, 'pruned');
  await w('importprivkey', [key.wif, '', false]);
  await w('importaddress', [watched.address, '', false]);
  assert.equal(await w('getbalance', ['*', 0, true]), 0);

  const [rawKey, proofKey] = [await raw(toKey), await proof(toKey)];
  await assert.rejects(
    w('importprunedfunds', ['zz', proofKey]),
    fails(-22, /^TX decode failed. Make sure the tx has at least one input.$/),
  );
  await assert.rejects(
    w('importprunedfunds', [rawKey, 'zz']),
    fails(-8, /^proof must be hexadecimal string/),
  );
  await assert.rejects(w('importprunedfunds', [rawKey, '00']), fails(-1, /^Invalid proof/));
  // A hash of the partial tree changed: the root no longer matches the header's.
  await assert.rejects(
    w('importprunedfunds', [rawKey, flip(proofKey, 80 + 4 + 1)]),
    fails(-5, /^Something wrong with merkleblock$/),
  );
  // The header changed (its nonce): the tree still matches it, but no such block is in the chain.
  await assert.rejects(
    w('importprunedfunds', [rawKey, flip(proofKey, 76)]),
    fails(-5, /^Block not found in chain$/),
  );
  await assert.rejects(
    w('importprunedfunds', [await raw(toWatched), proofKey]),
    fails(-5, /^Transaction given doesn't exist in proof$/),
  );
  await assert.rejects(
    w('importprunedfunds', [await raw(toNobody), await proof(toNobody)]),
    fails(-5, /^No addresses in transaction correspond to your wallet$/),
  );
  assert.equal(await w('getbalance', ['*', 0, true]), 0);

  assert.equal(await w('importprunedfunds', [rawKey, proofKey]), null);
  assert.equal(await w('getbalance'), 2);
  const tx = await w<{ confirmations: number; blockhash: string; amount: number }>('gettransaction', [toKey]);
  assert.deepEqual([tx.confirmations, tx.blockhash, tx.amount], [1, block, 2]);
  assert.equal(await w('importprunedfunds', [await raw(toWatched), await proof(toWatched)]), null);
  const balances = await w<{ mine: { trusted: number }; watchonly: { trusted: number } }>('getbalances');
  assert.deepEqual([balances.mine.trusted, balances.watchonly.trusted], [2, 3]);
  // The imported coin spends.
  const spent = await w<string>('sendtoaddress', [mAddr, 1]);
  await miner('generatetoaddress', [1, mAddr]);
  assert.equal((await w<{ confirmations: number }>('gettransaction', [spent])).confirmations, 1);

  await assert.rejects(w('removeprunedfunds', ['zz']), fails(-8, /^txid must be of length 64/));
  assert.equal(await w('removeprunedfunds', [toWatched]), null);
  assert.equal((await w<{ watchonly: { trusted: number } }>('getbalances')).watchonly.trusted, 0);
  await assert.rejects(w('gettransaction', [toWatched, true]), fails(-5));
  await assert.rejects(
    w('removeprunedfunds', [toWatched]),
    fails(-4, new RegExp(`^Transaction ${toWatched} does not belong to this wallet$`)),
  );
  // Gone from the file too: a restart keeps it out (the wallet reloads at its saved tip).
  await n.restart();
  await n.rpc('loadwallet', ['pruned']).catch(() => undefined);
  const again = walletRpc(n, 'pruned');
  assert.equal((await again<{ watchonly: { trusted: number } }>('getbalances')).watchonly.trusted, 0);
});

/** A regtest node that dials nobody, with wallet `miner` holding 101 blocks' coins. */
async function minerNode() {
  const n = await startNode({ args: ['--connect', '0'] });
  await n.rpc('createwallet', ['miner']);
  const miner = walletRpc(n, 'miner');
  const mAddr = await miner<string>('getnewaddress');
  await miner('generatetoaddress', [101, mAddr]);
  return { n, miner, mAddr };
}

interface Coin {
  address: string;
  amount: number;
  reused?: boolean;
}

test('setwalletflag avoid_reuse: coins of an address spent from are used, kept out of sends', async () => {
  const { n, miner, mAddr } = await minerNode();
  await n.rpc('createwallet', ['reuse']);
  const w = walletRpc(n, 'reuse');
  assert.equal((await w<{ avoid_reuse: boolean }>('getwalletinfo')).avoid_reuse, false);
  await assert.rejects(
    w('getbalance', ['*', 0, false, true]),
    fails(-8, /^wallet does not have the "avoid reuse" feature enabled$/),
  );
  await assert.rejects(w('setwalletflag', ['nope']), fails(-8, /^Unknown wallet flag: nope$/));
  await assert.rejects(w('setwalletflag', ['blank']), fails(-8, /^Wallet flag is immutable: blank$/));
  await assert.rejects(
    w('setwalletflag', ['avoid_reuse', false]),
    fails(-8, /^Wallet flag is already set to false: avoid_reuse$/),
  );

  // `a` is paid, spent from (the change goes elsewhere), then paid again.
  const a = await w<string>('getnewaddress');
  await miner('sendtoaddress', [a, 5]);
  await miner('generatetoaddress', [1, mAddr]);
  await w('sendtoaddress', [mAddr, 1]);
  await miner('generatetoaddress', [1, mAddr]);
  await miner('sendtoaddress', [a, 3]);
  await miner('generatetoaddress', [1, mAddr]);
  const change = (await w<Coin[]>('listunspent')).find((c) => c.address !== a)!.amount;
  assert.ok(change > 3.99 && change < 4, `change ${change}`);
  assert.equal((await w<Coin[]>('listunspent'))[0].reused, undefined);

  assert.deepEqual(await w('setwalletflag', ['avoid_reuse']), { flag_name: 'avoid_reuse', flag_state: true });
  assert.equal((await w<{ avoid_reuse: boolean }>('getwalletinfo')).avoid_reuse, true);
  const mine = (await w<{ mine: { trusted: number; used: number } }>('getbalances')).mine;
  assert.deepEqual([mine.trusted, mine.used], [change, 3]);
  const coins = await w<Coin[]>('listunspent');
  assert.deepEqual(coins.map((c) => [c.address === a, c.reused]).sort(), [
    [false, false],
    [true, true],
  ]);
  assert.equal(await w('getbalance'), change);
  const all = await w<number>('getbalance', ['*', 0, false, false]);
  assert.equal(Math.round(all * 1e8), Math.round((change + 3) * 1e8));
  // More than the unused coins: refused, unless avoid_reuse=false lets the used coin in.
  await assert.rejects(w('sendtoaddress', [mAddr, 4.5]), fails(-6, /^Insufficient funds$/));
  const txid = await w<string>('sendtoaddress', { address: mAddr, amount: 4.5, avoid_reuse: false });
  assert.match(txid, /^[0-9a-f]{64}$/);

  assert.deepEqual(await w('setwalletflag', ['avoid_reuse', false]), {
    flag_name: 'avoid_reuse',
    flag_state: false,
  });
  assert.equal((await w<{ mine: { used?: number } }>('getbalances')).mine.used, undefined);
  // createwallet's avoid_reuse sets the flag from the start.
  await n.rpc('createwallet', { wallet_name: 'born', avoid_reuse: true });
  assert.equal((await walletRpc(n, 'born')<{ avoid_reuse: boolean }>('getwalletinfo')).avoid_reuse, true);
});

/** The P2PKH address of m/44'/1'/0'/0/0 of a BIP32 seed (regtest), computed here. */
function firstAddressOfSeed(seed: Uint8Array): string {
  const key = HDKey.fromMasterSeed(seed).derive("m/44'/1'/0'/0/0");
  return encodeAddress('pubkeyhash', hash160(key.publicKey!), getParams('regtest').prefixes);
}

test('sethdseed: a new chain from a WIF key or a random seed; the old keys stay and spend', async () => {
  const { n, miner, mAddr } = await minerNode();
  await n.rpc('createwallet', ['hd']);
  const w = walletRpc(n, 'hd');
  const old = await w<string>('getnewaddress', ['old']);
  await miner('sendtoaddress', [old, 2]);
  await miner('generatetoaddress', [1, mAddr]);

  const key = independentKey();
  await assert.rejects(w('sethdseed', [true, 'notakey']), fails(-5, /^Invalid private key$/));
  assert.equal(await w('sethdseed', [true, key.wif]), null);
  const fresh = await w<string>('getnewaddress');
  assert.equal(fresh, firstAddressOfSeed(key.sk));
  const info = await w<{ hdkeypath: string; ismine: boolean }>('getaddressinfo', [fresh]);
  assert.deepEqual([info.hdkeypath, info.ismine], ["m/44'/1'/0'/0/0", true]);
  await assert.rejects(
    w('sethdseed', [true, key.wif]),
    fails(-5, /^Already have this key \(either as an HD seed or as a loose private key\)$/),
  );
  const loose = independentKey();
  await w('importprivkey', [loose.wif, '', false]);
  await assert.rejects(w('sethdseed', [true, loose.wif]), fails(-5, /^Already have this key/));

  // The old address is still the wallet's, with its label; paid again, its coins spend.
  const oldInfo = await w<{ ismine: boolean; labels: string[] }>('getaddressinfo', [old]);
  assert.deepEqual([oldInfo.ismine, oldInfo.labels], [true, ['old']]);
  await miner('sendtoaddress', [old, 1]);
  await miner('generatetoaddress', [1, mAddr]);
  assert.equal(await w('getbalance'), 3);
  // A random seed: yet another chain.
  assert.equal(await w('sethdseed', []), null);
  const third = await w<string>('getnewaddress');
  assert.notEqual(third, fresh);
  const spent = await w<string>('sendtoaddress', [mAddr, 2.5]);
  await miner('generatetoaddress', [1, mAddr]);
  assert.equal((await w<{ confirmations: number }>('gettransaction', [spent])).confirmations, 1);
  // All of it survives a reload.
  const balance = await w<number>('getbalance');
  await n.rpc('unloadwallet', ['hd']);
  await n.rpc('loadwallet', ['hd']);
  assert.equal(await w('getbalance'), balance);
  assert.equal((await w<{ ismine: boolean }>('getaddressinfo', [fresh])).ismine, true);
  assert.notEqual(await w<string>('getnewaddress'), third);

  // Encrypted: needs the wallet unlocked; the new seed is sealed and opens after a lock.
  await n.rpc('createwallet', { wallet_name: 'enc', passphrase: 'pass phrase' });
  const enc = walletRpc(n, 'enc');
  const encOld = await enc<string>('getnewaddress');
  await assert.rejects(enc('sethdseed', []), fails(-13));
  await enc('walletpassphrase', ['pass phrase', 60]);
  const seed2 = independentKey();
  assert.equal(await enc('sethdseed', [true, seed2.wif]), null);
  await enc('walletlock');
  const file = readFileSync(n.view(join(n.networkDir, 'wallets', 'enc.json')), 'utf8');
  assert.ok(!file.includes(Buffer.from(seed2.sk).toString('hex')), 'the new seed is in the file in clear');
  await enc('walletpassphrase', ['pass phrase', 60]);
  const encNew = await enc<string>('getnewaddress');
  assert.equal(encNew, firstAddressOfSeed(seed2.sk));
  // Both chains' keys open: the new one's from the sealed seed, the old one's as a sealed key.
  for (const address of [encNew, encOld]) {
    const wif = await enc<string>('dumpprivkey', [address]);
    await n.rpc('createwallet', [`check-${address}`]);
    await walletRpc(n, `check-${address}`)('importprivkey', [wif, '', false]);
    const got = await walletRpc(n, `check-${address}`)<{ ismine: boolean }>('getaddressinfo', [address]);
    assert.equal(got.ismine, true);
  }
});

/** Rewrites a stopped wallet's file through `edit`. */
function editWalletFile(n: TallyProcess, name: string, edit: (f: Record<string, unknown>) => void): void {
  const path = n.view(join(n.networkDir, 'wallets', `${name}.json`));
  const f = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  edit(f);
  writeFileSync(path, JSON.stringify(f));
}

test("upgradewallet reports Tally's wallet file versions with Core's fields", async () => {
  const n = await startNode({ args: ['--connect', '0'] });
  await n.rpc('createwallet', ['up']);
  const w = walletRpc(n, 'up');
  const latest = {
    wallet_name: 'up',
    previous_version: WALLET_FILE_VERSION,
    current_version: WALLET_FILE_VERSION,
    result: 'Already at latest version. Wallet version unchanged.',
  };
  assert.deepEqual(await w('upgradewallet'), latest);
  assert.equal((await w<{ walletversion: number }>('getwalletinfo')).walletversion, WALLET_FILE_VERSION);
  assert.deepEqual(await w('upgradewallet', [1]), {
    wallet_name: 'up',
    previous_version: WALLET_FILE_VERSION,
    current_version: WALLET_FILE_VERSION,
    error: `Cannot downgrade wallet from version ${WALLET_FILE_VERSION} to version 1. Wallet version unchanged.`,
  });
  // A version 2 file (before HD birth times): read, then reported as upgraded.
  await n.rpc('unloadwallet', ['up']);
  editWalletFile(n, 'up', (f) => {
    f.version = 2;
    delete f.hdBirth;
  });
  await n.rpc('loadwallet', ['up']);
  assert.deepEqual(await w('upgradewallet'), {
    wallet_name: 'up',
    previous_version: 2,
    current_version: WALLET_FILE_VERSION,
    result: `Wallet upgraded successfully from version 2 to version ${WALLET_FILE_VERSION}.`,
  });
  assert.deepEqual(await w('upgradewallet'), latest);
  const onDisk = JSON.parse(readFileSync(n.view(join(n.networkDir, 'wallets', 'up.json')), 'utf8'));
  assert.equal(onDisk.version, WALLET_FILE_VERSION);
});

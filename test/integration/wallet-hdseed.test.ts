// sethdseed's newkeypool and the HD fields of getaddressinfo/getwalletinfo against a real
// `tally node` (issue 15), every address and id computed here from the phrase or the WIF key with
// @scure/bip39 and @scure/bip32: with newkeypool=false the old chain's pre-derived keys are handed
// out first (change ones as change), a payment to one of them takes it and those before it out of
// the pool, then the new chain follows; newkeypool flushes the kept pool. Every HD key, of the
// current chain or kept from the old one, shows its hdkeypath, hdseedid (Core's hash160 of the
// seed key for a sethdseed seed) and hdmasterfingerprint, and a descriptor with that origin.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { HDKey } from '@scure/bip32';
import { mnemonicToSeedSync } from '@scure/bip39';
import { getParams } from '../../src/consensus/params.js';
import { hash160 } from '../../src/crypto/hash.js';
import { encodeAddress } from '../../src/primitives/address.js';
import { bytesToHex, hexToBytes } from '../../src/primitives/bytes.js';
import { independentKey } from '../rpc/helpers.js';
import { startNode, stopAll, waitFor } from './cluster.js';

after(stopAll);

const PREFIXES = getParams('regtest').prefixes;
const fingerprint = (root: HDKey) => root.fingerprint.toString(16).padStart(8, '0');
const at = (root: HDKey, branch: number, i: number) =>
  encodeAddress('pubkeyhash', hash160(root.derive(`m/44'/1'/0'/${branch}/${i}`).publicKey!), PREFIXES);

interface AddressInfo {
  ischange: boolean;
  timestamp?: number;
  hdkeypath?: string;
  hdseedid?: string;
  hdmasterfingerprint?: string;
  desc?: string;
}

test('sethdseed newkeypool=false hands out the old keypool first; every HD key says its seed', async () => {
  const n = await startNode({ args: ['--connect', '0'] });
  const { mnemonic } = await n.rpc<{ mnemonic: string }>('createwallet', ['w']);
  const oldRoot = HDKey.fromMasterSeed(mnemonicToSeedSync(mnemonic));
  // A phrase's seed is not a key: its id is the hash160 of the master public key.
  const oldId = bytesToHex(hash160(oldRoot.publicKey!));
  const info = (a: string) => n.rpc<AddressInfo>('getaddressinfo', [a]);
  const hdOf = async (a: string) => {
    const i = await info(a);
    return [i.hdkeypath, i.hdseedid, i.hdmasterfingerprint, i.ischange];
  };

  const a0 = await n.rpc<string>('getnewaddress');
  assert.equal(a0, at(oldRoot, 0, 0));
  const before = await n.rpc<{ hdseedid: string; birthtime: number }>('getwalletinfo');
  assert.equal(before.hdseedid, oldId);
  // An HD key's timestamp is its chain's birth (Core's key metadata time).
  assert.equal((await info(a0)).timestamp, before.birthtime);
  assert.equal((await n.rpc<{ keypoolsize: number }>('getwalletinfo')).keypoolsize, 20);

  const key = independentKey();
  const newRoot = HDKey.fromMasterSeed(key.sk);
  assert.equal(await n.rpc('sethdseed', [false, key.wif]), null);
  const walletInfo = await n.rpc<{ hdseedid: string; keypoolsize: number }>('getwalletinfo');
  assert.equal(walletInfo.hdseedid, bytesToHex(hash160(hexToBytes(key.pubkey))), "Core's seed id");
  assert.equal(walletInfo.keypoolsize, 20 + 20, 'the kept keys 1..20 and the new chain');

  // The key handed out before keeps its path, the old seed id and fingerprint.
  assert.deepEqual(await hdOf(a0), ["m/44'/1'/0'/0/0", oldId, fingerprint(oldRoot), false]);
  assert.equal((await info(a0)).timestamp, before.birthtime, 'a kept key keeps its time');
  assert.match((await info(a0)).desc!, new RegExp(`^pkh\\(\\[${fingerprint(oldRoot)}/44h/1h/0h/0/0\\]`));
  // Old keypool first: receive index 1, change index 0.
  const a1 = await n.rpc<string>('getnewaddress', ['kept']);
  assert.equal(a1, at(oldRoot, 0, 1));
  assert.deepEqual(await hdOf(a1), ["m/44'/1'/0'/0/1", oldId, fingerprint(oldRoot), false]);
  const c0 = await n.rpc<string>('getrawchangeaddress');
  assert.equal(c0, at(oldRoot, 1, 0));
  assert.deepEqual(await hdOf(c0), ["m/44'/1'/0'/1/0", oldId, fingerprint(oldRoot), true]);

  // A payment to kept index 5 takes 2..5 out of the pool, as Core's MarkUnusedAddresses.
  await n.rpc('generatetoaddress', [1, at(oldRoot, 0, 5)]);
  await waitFor(
    async () => (await n.rpc<{ txcount: number }>('getwalletinfo')).txcount === 1,
    20_000,
    'the payment to kept index 5',
  );
  assert.equal(await n.rpc('getnewaddress'), at(oldRoot, 0, 6));
  assert.equal((await n.rpc<{ keypoolsize: number }>('getwalletinfo')).keypoolsize, 14 + 20);
  for (let i = 7; i <= 20; i++) assert.equal(await n.rpc('getnewaddress'), at(oldRoot, 0, i));
  // The pool spent, the new chain follows, with its own seed id and fingerprint.
  const fresh = await n.rpc<string>('getnewaddress');
  assert.equal(fresh, at(newRoot, 0, 0));
  assert.deepEqual(await hdOf(fresh), ["m/44'/1'/0'/0/0", walletInfo.hdseedid, fingerprint(newRoot), false]);
  assert.equal(await n.rpc('getrawchangeaddress'), at(oldRoot, 1, 1), 'change keeps its own pool');

  // newkeypool flushes what is left of the kept pool, and the new chain's pre-derived keys (Tally's
  // newkeypool: indexes 0..19 count as used).
  await n.rpc('newkeypool');
  assert.equal(await n.rpc('getrawchangeaddress'), at(newRoot, 1, 20));
  assert.equal((await n.rpc<{ keypoolsize: number }>('getwalletinfo')).keypoolsize, 20);
});

test('an encrypted wallet says its seed id from creation; a default sethdseed uses the new chain at once', async () => {
  const n = await startNode({ args: ['--connect', '0'] });
  const { mnemonic } = await n.rpc<{ mnemonic: string }>('createwallet', {
    wallet_name: 'e',
    passphrase: 'pw',
  });
  const root = HDKey.fromMasterSeed(mnemonicToSeedSync(mnemonic));
  assert.equal(
    (await n.rpc<{ hdseedid: string }>('getwalletinfo')).hdseedid,
    bytesToHex(hash160(root.publicKey!)),
  );
  const a0 = await n.rpc<string>('getnewaddress');
  assert.equal((await info(n, a0)).hdmasterfingerprint, fingerprint(root));
  await n.rpc('walletpassphrase', ['pw', 60]);
  const key = independentKey();
  await n.rpc('sethdseed', [true, key.wif]);
  assert.equal(await n.rpc('getnewaddress'), at(HDKey.fromMasterSeed(key.sk), 0, 0));
  assert.equal((await info(n, a0)).hdmasterfingerprint, fingerprint(root), 'the kept key keeps its origin');
});

function info(n: Awaited<ReturnType<typeof startNode>>, a: string): Promise<AddressInfo> {
  return n.rpc<AddressInfo>('getaddressinfo', [a]);
}

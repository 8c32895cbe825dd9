// Every wallet method Tally serves, against one real tally process: each result's field names,
// JSON types and nesting against Core v29's documented result (RPCResult in src/wallet/rpc/*.cpp,
// kept below as data), as core-shapes.test.ts does for the node's methods. Fields only descriptor
// wallets print (parent_desc) are optional in Core and absent here; Tally's own additions are
// marked and said in docs/wallet.md.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startWalletNode, stopAll, waitFor, walletRpc, type TallyProcess } from '../integration/cluster.js';
import { assertCoreShape, type CoreShape, independentKey, jsonType, rpcCode } from './helpers.js';

const LAST_BLOCK: CoreShape = { hash: 'string', height: 'number' };
// Core's TransactionDescriptionString: what gettransaction and every list entry say of the transaction.
const TX_COMMON: CoreShape = {
  confirmations: 'number',
  'generated?': 'boolean',
  'trusted?': 'boolean',
  'blockhash?': 'string',
  'blockheight?': 'number',
  'blockindex?': 'number',
  'blocktime?': 'number',
  txid: 'string',
  wtxid: 'string',
  walletconflicts: 'array',
  'replaced_by_txid?': 'string',
  'replaces_txid?': 'string',
  mempoolconflicts: 'array',
  'to?': 'string',
  time: 'number',
  timereceived: 'number',
  'comment?': 'string',
  'bip125-replaceable': 'string',
  'parent_descs?': 'array',
};
const ENTRY_OWN: CoreShape = {
  'involvesWatchonly?': 'boolean',
  'address?': 'string',
  category: 'string',
  amount: 'number',
  'label?': 'string',
  vout: 'number',
  'fee?': 'number',
  'abandoned?': 'boolean',
};
const BALANCE: CoreShape = {
  trusted: 'number',
  untrusted_pending: 'number',
  immature: 'number',
  'used?': 'number',
};
const SEND_RESULT: CoreShape = {
  complete: 'boolean',
  'txid?': 'string',
  'hex?': 'string',
  'psbt?': 'string',
};

const CORE: Record<string, CoreShape> = {
  getwalletinfo: {
    walletname: 'string',
    walletversion: 'number',
    format: 'string',
    balance: 'number',
    unconfirmed_balance: 'number',
    immature_balance: 'number',
    txcount: 'number',
    'keypoololdest?': 'number',
    keypoolsize: 'number',
    'keypoolsize_hd_internal?': 'number',
    'unlocked_until?': 'number',
    paytxfee: 'number',
    'hdseedid?': 'string',
    private_keys_enabled: 'boolean',
    avoid_reuse: 'boolean',
    // An object while a rescan runs, false otherwise.
    scanning: 'boolean',
    descriptors: 'boolean',
    external_signer: 'boolean',
    blank: 'boolean',
    'birthtime?': 'number',
    lastprocessedblock: 'object',
  },
  getbalances: { mine: 'object', 'watchonly?': 'object', lastprocessedblock: 'object' },
  gettransaction: {
    amount: 'number',
    'fee?': 'number',
    ...TX_COMMON,
    details: 'array',
    hex: 'string',
    'decoded?': 'object',
    lastprocessedblock: 'object',
  },
  detail: { ...ENTRY_OWN, 'parent_descs?': 'array' },
  listtransactions: { ...ENTRY_OWN, ...TX_COMMON },
  listsinceblock: { transactions: 'array', 'removed?': 'array', lastblock: 'string' },
  listunspent: {
    txid: 'string',
    vout: 'number',
    'address?': 'string',
    'label?': 'string',
    scriptPubKey: 'string',
    amount: 'number',
    confirmations: 'number',
    'ancestorcount?': 'number',
    'ancestorsize?': 'number',
    'ancestorfees?': 'number',
    'redeemScript?': 'string',
    'witnessScript?': 'string',
    spendable: 'boolean',
    solvable: 'boolean',
    'reused?': 'boolean',
    'desc?': 'string',
    parent_descs: 'array',
    safe: 'boolean',
  },
  getaddressinfo: {
    address: 'string',
    scriptPubKey: 'string',
    ismine: 'boolean',
    iswatchonly: 'boolean',
    solvable: 'boolean',
    'desc?': 'string',
    'parent_desc?': 'string',
    'isscript?': 'boolean',
    'ischange?': 'boolean',
    iswitness: 'boolean',
    'witness_version?': 'number',
    'witness_program?': 'string',
    'script?': 'string',
    'hex?': 'string',
    'pubkeys?': 'array',
    'sigsrequired?': 'number',
    'pubkey?': 'string',
    'embedded?': 'object',
    'iscompressed?': 'boolean',
    'timestamp?': 'number',
    'hdkeypath?': 'string',
    'hdseedid?': 'string',
    'hdmasterfingerprint?': 'string',
    labels: 'array',
  },
  listreceivedbyaddress: {
    'involvesWatchonly?': 'boolean',
    address: 'string',
    amount: 'number',
    confirmations: 'number',
    label: 'string',
    txids: 'array',
  },
  listreceivedbylabel: {
    'involvesWatchonly?': 'boolean',
    amount: 'number',
    confirmations: 'number',
    label: 'string',
  },
  addressesbylabel: { purpose: 'string' },
  listwalletdir: { wallets: 'array' },
  walletdirEntry: { name: 'string' },
  // mnemonic is Tally's own: the recovery phrase, shown once (docs/wallet.md).
  createwallet: { name: 'string', 'warnings?': 'array', 'mnemonic?': 'string' },
  loadwallet: { name: 'string', 'warnings?': 'array' },
  unloadwallet: { 'warnings?': 'array' },
  restorewallet: { name: 'string', 'warnings?': 'array' },
  lockedCoin: { txid: 'string', vout: 'number' },
  bumpfee: { 'psbt?': 'string', 'txid?': 'string', origfee: 'number', fee: 'number', errors: 'array' },
  send: SEND_RESULT,
  sendall: SEND_RESULT,
  sendVerbose: { txid: 'string', fee_reason: 'string' },
  fundrawtransaction: { hex: 'string', fee: 'number', changepos: 'number' },
  simulaterawtransaction: { balance_change: 'number' },
  upgradewallet: {
    wallet_name: 'string',
    previous_version: 'number',
    current_version: 'number',
    'result?': 'string',
    'error?': 'string',
  },
  setwalletflag: { flag_name: 'string', flag_state: 'boolean', 'warnings?': 'string' },
  signrawtransactionwithwallet: { hex: 'string', complete: 'boolean', 'errors?': 'array' },
  dumpwallet: { filename: 'string' },
  importmulti: { success: 'boolean', 'warnings?': 'array', 'error?': 'object' },
  rescanblockchain: { start_height: 'number', stop_height: 'number' },
  addmultisigaddress: {
    address: 'string',
    redeemScript: 'string',
    descriptor: 'string',
    'warnings?': 'array',
  },
};

const shape = (v: unknown, name: string, as = name) => assertCoreShape(v, CORE[name], as);
const each = (vs: unknown, name: string) => {
  assert.equal(jsonType(vs), 'array', name);
  assert.ok((vs as unknown[]).length > 0, `${name}: something to compare`);
  for (const v of vs as unknown[]) shape(v, name);
};

let node: TallyProcess;
let address: string;
let labelled: string;
let sent: string;
before(async () => {
  ({ node, address } = await startWalletNode());
  labelled = await node.rpc<string>('getnewaddress', ['lab']);
  sent = await node.rpc<string>('sendtoaddress', [labelled, 1]);
  await node.rpc('sendtoaddress', [independentKey().address, 2]);
});
after(stopAll);

test('wallet state: getwalletinfo, getbalances, listwallets, listwalletdir, listlabels', async () => {
  const info = await node.rpc<{ lastprocessedblock: unknown; hdseedid: string }>('getwalletinfo');
  shape(info, 'getwalletinfo');
  assertCoreShape(info.lastprocessedblock, LAST_BLOCK, 'lastprocessedblock');
  assert.match(info.hdseedid, /^[0-9a-f]{40}$/);
  const pools = info as unknown as { keypoolsize_hd_internal: number; birthtime: number };
  assert.equal(pools.keypoolsize_hd_internal, 20, 'the change lookahead');
  assert.ok(pools.birthtime > 1_600_000_000 && pools.birthtime <= Date.now() / 1000);
  const balances = await node.rpc<{ mine: unknown; lastprocessedblock: unknown }>('getbalances');
  shape(balances, 'getbalances');
  assertCoreShape(balances.mine, BALANCE, 'getbalances.mine');
  assertCoreShape(balances.lastprocessedblock, LAST_BLOCK, 'lastprocessedblock');
  assert.deepEqual(await node.rpc('listwallets'), ['w']);
  const dir = await node.rpc<{ wallets: unknown[] }>('listwalletdir');
  shape(dir, 'listwalletdir');
  each(dir.wallets, 'walletdirEntry');
  assert.deepEqual(await node.rpc('listlabels'), ['', 'lab']);
  const byLabel = await node.rpc<Record<string, unknown>>('getaddressesbylabel', ['lab']);
  assert.deepEqual(Object.keys(byLabel), [labelled]);
  shape(byLabel[labelled], 'addressesbylabel');
});

test('transactions: gettransaction (details, decoded), listtransactions, listsinceblock', async () => {
  const tx = await node.rpc<{ details: unknown[]; lastprocessedblock: unknown; decoded: unknown }>(
    'gettransaction',
    [sent, false, true],
  );
  shape(tx, 'gettransaction');
  each(tx.details, 'detail');
  assertCoreShape(tx.lastprocessedblock, LAST_BLOCK, 'lastprocessedblock');
  assert.equal(jsonType(tx.decoded), 'object');
  assert.equal((await node.rpc<{ decoded?: unknown }>('gettransaction', [sent])).decoded, undefined);
  // Unconfirmed entries (trusted, no block) and confirmed ones (block fields, blockindex).
  const unconfirmed = await node.rpc<Record<string, unknown>[]>('listtransactions', ['*', 1000]);
  each(unconfirmed, 'listtransactions');
  assert.ok(unconfirmed.some((e) => e.txid === sent && e.trusted === true && e.blockhash === undefined));
  await node.rpc('generatetoaddress', [1, address]);
  const confirmed = await node.rpc<Record<string, unknown>[]>('listtransactions', ['*', 1000]);
  each(confirmed, 'listtransactions');
  // Core's label filter: incoming entries of the label only; a send to a labelled address says it.
  const byLabel = await node.rpc<Record<string, unknown>[]>('listtransactions', ['lab']);
  assert.deepEqual(
    byLabel.map((e) => [e.category, e.label, e.txid]),
    [['receive', 'lab', sent]],
  );
  assert.ok(confirmed.some((e) => e.txid === sent && e.category === 'send' && e.label === 'lab'));
  await assert.rejects(
    node.rpc('listtransactions', ['']),
    rpcCode(-8, 'Label argument must be a valid label name or "*".'),
  );
  const mined = confirmed.find((e) => e.txid === sent)!;
  assert.equal(mined.blockindex, 1, 'the payment follows the coinbase');
  assert.equal(mined.wtxid, sent);
  assert.equal(mined.trusted, undefined);
  const since = await node.rpc<{ transactions: unknown[]; removed: unknown[] }>('listsinceblock', [
    await node.rpc('getblockhash', [100]),
  ]);
  shape(since, 'listsinceblock');
  each(since.transactions, 'listtransactions');
});

test('coins and addresses: listunspent, getaddressinfo, listreceivedby*, listaddressgroupings, locks', async () => {
  const coins = await node.rpc<{ txid: string; vout: number; desc: string }[]>('listunspent');
  each(coins, 'listunspent');
  assert.ok(coins.every((c) => /^pkh\(\[[0-9a-f]{8}\/44h\/1h\/0h\/[01]\/\d+\][0-9a-f]{66}\)#/.test(c.desc)));
  for (const a of [address, labelled, await node.rpc<string>('getrawchangeaddress')])
    shape(await node.rpc('getaddressinfo', [a]), 'getaddressinfo');
  shape(await node.rpc('getaddressinfo', [independentKey().address]), 'getaddressinfo');
  each(await node.rpc('listreceivedbyaddress', [0]), 'listreceivedbyaddress');
  each(await node.rpc('listreceivedbylabel', [0]), 'listreceivedbylabel');
  const groups = await node.rpc<unknown[][][]>('listaddressgroupings');
  for (const g of groups)
    for (const [a, amount, label] of g) {
      assert.equal(typeof a, 'string');
      assert.equal(typeof amount, 'number');
      assert.ok(label === undefined || typeof label === 'string');
    }
  const coin = { txid: coins[0].txid, vout: coins[0].vout };
  assert.equal(await node.rpc('lockunspent', [false, [coin]]), true);
  each(await node.rpc('listlockunspent'), 'lockedCoin');
  assert.equal(await node.rpc('lockunspent', [true]), true);
});

test('sends: sendtoaddress/sendmany verbose, send, sendall, bumpfee, fundrawtransaction, simulaterawtransaction', async () => {
  const dest = independentKey().address;
  shape(await node.rpc('sendtoaddress', { address: dest, amount: 0.1, verbose: true }), 'sendVerbose');
  shape(await node.rpc('sendmany', { dummy: '', amounts: { [dest]: 0.1 }, verbose: true }), 'sendVerbose');
  const sendResult = await node.rpc<{ txid: string }>('send', [[{ [dest]: 0.2 }]]);
  shape(sendResult, 'send');
  shape(await node.rpc('bumpfee', [sendResult.txid]), 'bumpfee');
  const raw = await node.rpc<string>('createrawtransaction', [[], { [dest]: 0.3 }]);
  const funded = await node.rpc<{ hex: string }>('fundrawtransaction', [raw]);
  shape(funded, 'fundrawtransaction');
  shape(await node.rpc('simulaterawtransaction', [[funded.hex]]), 'simulaterawtransaction');
  // sendall empties a second wallet.
  await node.rpc('createwallet', ['s']);
  const s = walletRpc(node, 's');
  const w = walletRpc(node, 'w');
  await w('sendtoaddress', [await s<string>('getnewaddress'), 1]);
  await node.rpc('generatetoaddress', [1, address]);
  shape(await s('sendall', [[address]]), 'sendall');
  await node.rpc('unloadwallet', ['s']);
});

test('wallets and keys: create, load, unload, restore, upgrade, flags, dumps, imports, multisig, rescan', async () => {
  const created = await node.rpc<{ warnings: string[] }>('createwallet', ['x']);
  shape(created, 'createwallet');
  assert.equal(created.warnings.length, 1, 'an unencrypted wallet is said');
  shape(await node.rpc('createwallet', { wallet_name: 'y', passphrase: 'pw' }), 'createwallet');
  shape(await node.rpc('unloadwallet', ['x']), 'unloadwallet');
  shape(await node.rpc('loadwallet', ['x']), 'loadwallet');
  shape(await node.rpc('unloadwallet', ['x']), 'unloadwallet');
  await node.rpc('unloadwallet', ['y']);
  const w = walletRpc(node, 'w');
  const backup = join(node.datadir, 'w-backup.json');
  assert.equal(await w('backupwallet', [backup]), null);
  shape(await node.rpc('restorewallet', ['r', backup]), 'restorewallet');
  await node.rpc('unloadwallet', ['r']);
  shape(await w('upgradewallet'), 'upgradewallet');
  shape(await w('setwalletflag', ['avoid_reuse']), 'setwalletflag');
  shape(await w('dumpwallet', [join(node.datadir, 'w-dump.txt')]), 'dumpwallet');
  const key = independentKey();
  each(
    await w('importmulti', [[{ scriptPubKey: { address: key.address }, timestamp: 'now' }]]),
    'importmulti',
  );
  shape(await w('getaddressinfo', [key.address]), 'getaddressinfo');
  const ms = await w<{ address: string }>('addmultisigaddress', [1, [labelled, key.pubkey]]);
  shape(ms, 'addmultisigaddress');
  shape(await w('getaddressinfo', [ms.address]), 'getaddressinfo');
  shape(await w('rescanblockchain', [100]), 'rescanblockchain');
  assert.equal(await w('abortrescan'), false);
  assert.equal(await w('sethdseed'), null);
  shape(await w('getaddressinfo', [labelled]), 'getaddressinfo');
});

test("the other methods' results are Core's JSON types (null, number, string, boolean)", async () => {
  await node.rpc('createwallet', ['k']);
  const k = walletRpc(node, 'k');
  const w = walletRpc(node, 'w');
  const type = async (method: string, params: unknown[], expected: string, wallet = k) =>
    assert.equal(jsonType(await wallet(method, params)), expected, method);
  const mine = await k<string>('getnewaddress', ['mine']);
  await w('sendtoaddress', [mine, 3]);
  for (const m of ['getbalance', 'getunconfirmedbalance']) await type(m, [], 'number');
  await type('getreceivedbyaddress', [mine, 0], 'number');
  await type('getreceivedbylabel', ['mine', 0], 'number');
  for (const m of ['getnewaddress', 'getrawchangeaddress']) await type(m, [], 'string');
  await type('dumpprivkey', [mine], 'string');
  await type('signmessage', [mine, 'hello'], 'string');
  await type('setlabel', [mine, 'renamed'], 'null');
  await type('backupwallet', [join(node.datadir, 'k-backup.json')], 'null');
  const other = independentKey();
  await type('importprivkey', [other.wif, 'imported', false], 'null');
  await type('importpubkey', [independentKey().pubkey, '', false], 'null');
  const watched = independentKey().address;
  await type('importaddress', [watched, '', false], 'null');
  // gettransaction's include_watchonly: a payment to a watched address shows only when asked for.
  const toWatched = await w<string>('sendtoaddress', [watched, 0.5]);
  await waitFor(() => k('gettransaction', [toWatched]).then(() => true), 20_000, 'the watched payment');
  type Tx = { amount: number; details: { involvesWatchonly?: boolean; amount: number }[] };
  const hidden = await k<Tx>('gettransaction', [toWatched]);
  assert.deepEqual([hidden.amount, hidden.details], [0, []]);
  const shown = await k<Tx>('gettransaction', [toWatched, true]);
  assert.equal(shown.amount, 0.5);
  assert.deepEqual(
    shown.details.map((d) => [d.involvesWatchonly, d.amount]),
    [[true, 0.5]],
  );
  await type('keypoolrefill', [], 'null');
  await type('newkeypool', [], 'null');
  await type('settxfee', [0.0001], 'boolean');
  await type('lockunspent', [true], 'boolean');
  // A raw payment of the wallet's coin, signed by it.
  const [coin] = await k<{ txid: string; vout: number; amount: number }[]>('listunspent', [0]);
  const raw = await node.rpc<string>('createrawtransaction', [
    [{ txid: coin.txid, vout: coin.vout }],
    { [independentKey().address]: 1 },
  ]);
  shape(await k('signrawtransactionwithwallet', [raw]), 'signrawtransactionwithwallet');
  await type('encryptwallet', ['pw'], 'string');
  await type('walletpassphrase', ['pw', 60], 'null');
  await type('walletpassphrasechange', ['pw', 'pw2'], 'null');
  await type('walletlock', [], 'null');
  await node.rpc('unloadwallet', ['k']);
});

// getdescriptorinfo, deriveaddresses, generatetodescriptor and scantxoutset with extended-key
// ranges against one real tally process (regtest, no peers): results in Core's shape (kept below
// as data, from Core v29's help text), Core's descriptor vectors giving Core's scripts (as this
// network's addresses), coins mined to derived keys found again by a ranged scan with Core's
// inferred descriptors (origins included), and Core's error codes and messages.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { HDKey } from '@scure/bip32';
import { getParams } from '../../src/consensus/params.js';
import { scriptToAddress } from '../../src/primitives/address.js';
import { hexToBytes } from '../../src/primitives/bytes.js';
import { descriptorChecksum } from '../../src/rpc/descriptor.js';
import { startNode, stopAll, type TallyProcess } from '../integration/cluster.js';
import { XPRV_A, XPRV_B, XPUB_A, XPUB_B, XPUB_C, XPUB_D } from './descriptor-keys.js';
import { assertCoreShape, type CoreShape, rpcCode as code } from './helpers.js';

// Core v29's RPCResult of getdescriptorinfo (multipath_expansion only for a multipath descriptor).
const CORE_DESCRIPTOR_INFO: CoreShape = {
  descriptor: 'string',
  'multipath_expansion?': 'array',
  checksum: 'string',
  isrange: 'boolean',
  issolvable: 'boolean',
  hasprivatekeys: 'boolean',
};

const prefixes = getParams('regtest').prefixes;
const addr = (scriptHex: string) => scriptToAddress(hexToBytes(scriptHex), prefixes)!;
const sum = (d: string) => `${d}#${descriptorChecksum(d)}`;
const fingerprint = (xpub: string) =>
  (HDKey.fromExtendedKey(xpub).fingerprint >>> 0).toString(16).padStart(8, '0');

// From Core's descriptor_tests.cpp.
const MULTI_PRV = `sh(multi(2,[00000000/111'/222]${XPRV_A},${XPRV_B}/0))`;
const MULTI_PUB = `sh(multi(2,[00000000/111'/222]${XPUB_A},${XPUB_B}/0))`;
const MULTI_P2SH = 'a91445a9a622a8b0a1269944be477640eedc447bbd8487';
const COMBO_D = `combo(${XPUB_D}/*)`;
const COMBO_D_P2PKH = [
  '76a914f90e3178ca25f2c808dc76624032d352fdbdfaf288ac',
  '76a914a8409d1b6dfb1ed2a3e8aa5e0ef2ff26b15b75b788ac',
];

let node: TallyProcess;
before(async () => {
  node = await startNode({ args: ['--connect', '0'] });
});
after(stopAll);

test("getdescriptorinfo: Core's fields, canonical public form and checksums, and Core's errors", async () => {
  const info = await node.rpc<Record<string, unknown>>('getdescriptorinfo', [MULTI_PRV]);
  assertCoreShape(info, CORE_DESCRIPTOR_INFO, 'getdescriptorinfo');
  assert.deepEqual(info, {
    descriptor: `${MULTI_PUB}#tjg09x5t`,
    checksum: 'ggrsrxfy',
    isrange: false,
    issolvable: true,
    hasprivatekeys: true,
  });
  const ranged = await node.rpc<Record<string, unknown>>('getdescriptorinfo', { descriptor: sum(COMBO_D) });
  assert.deepEqual(ranged, {
    descriptor: sum(COMBO_D),
    checksum: descriptorChecksum(COMBO_D),
    isrange: true,
    issolvable: true,
    hasprivatekeys: false,
  });
  const address = addr(MULTI_P2SH);
  const a = await node.rpc<Record<string, unknown>>('getdescriptorinfo', [`addr(${address})`]);
  assert.equal(a.issolvable, false);
  assert.equal(a.descriptor, sum(`addr(${address})`));
  await assert.rejects(
    node.rpc('getdescriptorinfo', [`${MULTI_PUB}#tjq09x4t`]),
    code(-5, "Provided checksum 'tjq09x4t' does not match computed checksum 'tjg09x5t'"),
  );
  await assert.rejects(
    node.rpc('getdescriptorinfo', ['wpkh(02aa)']),
    code(-5, 'wpkh(): SegWit and Taproot descriptors do not apply to a pre-SegWit chain'),
  );
  await assert.rejects(node.rpc('getdescriptorinfo', []), code(-1, /^getdescriptorinfo "descriptor"/));
});

test("deriveaddresses: Core's addresses over a range, P2PK skipped in combo(), and Core's errors", async () => {
  assert.deepEqual(await node.rpc('deriveaddresses', [sum(COMBO_D), [0, 1]]), COMBO_D_P2PKH.map(addr));
  assert.deepEqual(await node.rpc('deriveaddresses', [sum(COMBO_D), 0]), [addr(COMBO_D_P2PKH[0])]);
  assert.deepEqual(await node.rpc('deriveaddresses', { descriptor: sum(MULTI_PRV) }), [addr(MULTI_P2SH)]);
  const pkhD = `pkh(${XPUB_D}/*)`;
  assert.equal((await node.rpc<string[]>('deriveaddresses', [sum(pkhD), [5, 14]])).length, 10);

  const fails: [unknown[], number, string][] = [
    [[MULTI_PUB], -5, 'Missing checksum'],
    [[sum(MULTI_PUB), 2], -8, 'Range should not be specified for an un-ranged descriptor'],
    [[sum(COMBO_D)], -8, 'Range must be specified for a ranged descriptor'],
    [[sum(COMBO_D), [2, 1]], -8, 'Range specified as [begin,end] must not have begin after end'],
    [[sum(COMBO_D), [-1, 0]], -8, 'Range should be greater or equal than 0'],
    [[sum(COMBO_D), -1], -8, 'End of range is too high'],
    [[sum(COMBO_D), [0, 1000000]], -8, 'Range is too large'],
    [[sum(COMBO_D), 'x'], -8, 'Range must be specified as end or as [begin,end]'],
    [[sum(`multi(1,${XPUB_A})`)], -5, 'Descriptor does not have a corresponding address'],
    [[sum(`pkh(${XPUB_C}/2147483647'/0)`)], -5, 'Cannot derive script without private keys'],
  ];
  for (const [params, c, message] of fails)
    await assert.rejects(node.rpc('deriveaddresses', params), code(c, message), JSON.stringify(params));
});

test('generatetodescriptor and scantxoutset: coins mined to derived keys are found by a ranged scan', async () => {
  // pk(XPUB_B/0) is Core's vector: its coinbase pays exactly Core's P2PK script.
  const [h1] = await node.rpc<string[]>('generatetodescriptor', [1, `pk(${XPUB_B}/0)`]);
  const b1 = await node.rpc<{ tx: { vout: { scriptPubKey: { hex: string } }[] }[] }>('getblock', [h1, 2]);
  assert.equal(
    b1.tx[0].vout[0].scriptPubKey.hex,
    '210379e45b3cf75f9c5f9befd8e9506fb962f6a9d185ac87001ec44a8d3df8d4a9e3ac',
  );
  // The P2SH multisig, and combo(XPUB_D/3)'s P2PKH (position 3 of the ranged descriptor).
  await node.rpc('generatetodescriptor', { num_blocks: 2, descriptor: MULTI_PRV });
  const [h3] = await node.rpc<string[]>('generatetodescriptor', [1, `combo(${XPUB_D}/3)`]);
  const b3 = await node.rpc<{ tx: { vout: { scriptPubKey: { address: string } }[] }[] }>('getblock', [h3, 2]);
  const [third] = await node.rpc<string[]>('deriveaddresses', [sum(`pkh(${XPUB_D}/*)`), [3, 3]]);
  assert.equal(b3.tx[0].vout[0].scriptPubKey.address, third);

  type Scan = { success: boolean; unspents: { desc: string; amount: number }[]; total_amount: number };
  const scan = (objects: unknown[]) => node.rpc<Scan>('scantxoutset', ['start', objects]);
  // Default range 0..1000 finds position 3; [0,2] does not; the inferred descriptor names the origin.
  const found = await scan([`pkh(${XPUB_D}/*)`]);
  assert.equal(found.unspents.length, 1);
  assert.match(
    found.unspents[0].desc,
    new RegExp(`^pkh\\(\\[${fingerprint(XPUB_D)}/3\\]0[23][0-9a-f]{64}\\)#`),
  );
  assert.equal((await scan([{ desc: `pkh(${XPUB_D}/*)`, range: [0, 2] }])).unspents.length, 0);
  assert.equal((await scan([{ desc: COMBO_D, range: 3 }])).unspents.length, 1);

  const multi = await scan([MULTI_PUB]);
  assert.equal(multi.unspents.length, 2);
  assert.equal(multi.total_amount, 100);
  const key = '0[23][0-9a-f]{64}';
  const multiDesc = `^sh\\(multi\\(2,\\[00000000/111h/222\\]${key},\\[${fingerprint(XPUB_B)}/0\\]${key}\\)\\)#`;
  for (const u of multi.unspents) assert.match(u.desc, new RegExp(multiDesc));

  // A range given for an unranged descriptor is ignored, as Core's EvalDescriptorStringOrObject.
  assert.equal((await scan([{ desc: `pk(${XPUB_B}/0)`, range: [5, 9] }])).unspents.length, 1);
  await assert.rejects(
    node.rpc('scantxoutset', ['start', [{ desc: 'desc', range: -1 }]]),
    code(-8, 'End of range is too high'),
  );
  await assert.rejects(
    node.rpc('scantxoutset', ['start', [{ range: 1 }]]),
    code(-8, 'Descriptor needs to be provided in scan object'),
  );
  await assert.rejects(
    node.rpc('scantxoutset', ['start', [`pkh(${XPUB_C}/1'/*)`]]),
    code(-5, `Cannot derive script without private keys: 'pkh(${XPUB_C}/1'/*)'`),
  );

  await assert.rejects(
    node.rpc('generatetodescriptor', [1, COMBO_D]),
    code(-8, 'Ranged descriptor not accepted. Maybe pass through deriveaddresses first?'),
  );
  await assert.rejects(
    node.rpc('generatetodescriptor', [1, 'pkh(02aa)']),
    code(-5, "pkh(): Pubkey '02aa' is invalid"),
  );
  await assert.rejects(
    node.rpc('generatetodescriptor', [1, `pkh(${XPUB_C}/2147483647'/0)`]),
    code(-5, 'Cannot derive script without private keys'),
  );
});

// Output descriptors against Bitcoin Core's descriptor_tests.cpp vectors (the pre-SegWit ones,
// written here as data; Core's combo() also yields two SegWit scripts, which Tally leaves out):
// each private descriptor reads to Core's public canonical form and output scripts, ranged ones at
// positions 0, 1, 2; the public form gives the same scripts; Core's parse errors word for word.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HDKey } from '@scure/bip32';
import { encodeWif } from '../../src/primitives/address.js';
import { bytesToHex } from '../../src/primitives/bytes.js';
import { DescriptorError, descriptorChecksum, inferDescriptor } from '../../src/rpc/descriptor.js';
import { descriptorString, expandDescriptor, parseDescriptorText } from '../../src/rpc/descriptor-parse.js';

import {
  PUB_C,
  PUB_U,
  WIF_C,
  WIF_U,
  XPRV_A,
  XPRV_B,
  XPRV_C,
  XPRV_D,
  XPUB_A,
  XPUB_B,
  XPUB_C,
  XPUB_D,
} from './descriptor-keys.js';

/** Bitcoin main's prefixes: Core's vectors use its WIF keys. */
const MAIN = { pubkeyHash: 0, scriptHash: 5, wif: 128 };

const MULTI_1_CU = `5121${PUB_C}41${PUB_U}52ae`;

interface Vector {
  prv: string;
  pub: string;
  /** Scripts per position (one entry: unranged). */
  scripts: string[][];
  range?: boolean;
  /** The public form cannot derive (a hardened step). */
  hardened?: boolean;
}

const VECTORS: Vector[] = [
  {
    prv: `combo(${WIF_C})`,
    pub: `combo(${PUB_C})`,
    scripts: [[`21${PUB_C}ac`, '76a9149a1c78a507689f6f54b847ad1cef1e614ee23f1e88ac']],
  },
  { prv: `pk(${WIF_C})`, pub: `pk(${PUB_C})`, scripts: [[`21${PUB_C}ac`]] },
  {
    prv: `pkh([deadbeef/1/2'/3/4']${WIF_C})`,
    pub: `pkh([deadbeef/1/2'/3/4']${PUB_C})`,
    scripts: [['76a9149a1c78a507689f6f54b847ad1cef1e614ee23f1e88ac']],
  },
  {
    prv: `combo(${WIF_U})`,
    pub: `combo(${PUB_U})`,
    scripts: [[`41${PUB_U}ac`, '76a914b5bd079c4d57cc7fc28ecf8213a6b791625b818388ac']],
  },
  {
    prv: `pkh(${WIF_U})`,
    pub: `pkh(${PUB_U})`,
    scripts: [['76a914b5bd079c4d57cc7fc28ecf8213a6b791625b818388ac']],
  },
  {
    prv: `sh(pk(${WIF_C}))`,
    pub: `sh(pk(${PUB_C}))`,
    scripts: [['a9141857af51a5e516552b3086430fd8ce55f7c1a52487']],
  },
  {
    prv: `sh(pkh(${WIF_C}))`,
    pub: `sh(pkh(${PUB_C}))`,
    scripts: [['a9141a31ad23bf49c247dd531a623c2ef57da3c400c587']],
  },
  {
    prv: `combo([01234567]${XPRV_A})`,
    pub: `combo([01234567]${XPUB_A})`,
    scripts: [
      [
        '2102d2b36900396c9282fa14628566582f206a5dd0bcc8d5e892611806cafb0301f0ac',
        '76a91431a507b815593dfc51ffc7245ae7e5aee304246e88ac',
      ],
    ],
  },
  {
    prv: `pk(${XPRV_B}/0)`,
    pub: `pk(${XPUB_B}/0)`,
    scripts: [['210379e45b3cf75f9c5f9befd8e9506fb962f6a9d185ac87001ec44a8d3df8d4a9e3ac']],
  },
  {
    prv: `pkh(${XPRV_C}/2147483647'/0)`,
    pub: `pkh(${XPUB_C}/2147483647'/0)`,
    scripts: [['76a914ebdc90806a9c4356c1c88e42216611e1cb4c1c1788ac']],
    hardened: true,
  },
  {
    prv: `combo(${XPRV_D}/*)`,
    pub: `combo(${XPUB_D}/*)`,
    range: true,
    scripts: [
      [
        '2102df12b7035bdac8e3bab862a3a83d06ea6b17b6753d52edecba9be46f5d09e076ac',
        '76a914f90e3178ca25f2c808dc76624032d352fdbdfaf288ac',
      ],
      [
        '21032869a233c9adff9a994e4966e5b821fd5bac066da6c3112488dc52383b4a98ecac',
        '76a914a8409d1b6dfb1ed2a3e8aa5e0ef2ff26b15b75b788ac',
      ],
    ],
  },
  { prv: `multi(1,${WIF_C},${WIF_U})`, pub: `multi(1,${PUB_C},${PUB_U})`, scripts: [[MULTI_1_CU]] },
  {
    prv: `sortedmulti(1,${WIF_C},${WIF_U})`,
    pub: `sortedmulti(1,${PUB_C},${PUB_U})`,
    scripts: [[MULTI_1_CU]],
  },
  {
    prv: `sortedmulti(1,${WIF_U},${WIF_C})`,
    pub: `sortedmulti(1,${PUB_U},${PUB_C})`,
    scripts: [[MULTI_1_CU]],
  },
  {
    prv: `sh(multi(2,[00000000/111'/222]${XPRV_A},${XPRV_B}/0))`,
    pub: `sh(multi(2,[00000000/111'/222]${XPUB_A},${XPUB_B}/0))`,
    scripts: [['a91445a9a622a8b0a1269944be477640eedc447bbd8487']],
  },
  {
    prv: `sortedmulti(2,${XPRV_A}/*,${XPRV_B}/0/0/*)`,
    pub: `sortedmulti(2,${XPUB_A}/*,${XPUB_B}/0/0/*)`,
    range: true,
    scripts: [
      [
        '5221025d5fc65ebb8d44a5274b53bac21ff8307fec2334a32df05553459f8b1f7fe1b62102fbd47cc8034098f0e6a94c6aeee8528abf0a2153a5d8e46d325b7284c046784652ae',
      ],
      [
        '52210264fd4d1f5dea8ded94c61e9641309349b62f27fbffe807291f664e286bfbe6472103f4ece6dfccfa37b211eb3d0af4d0c61dba9ef698622dc17eecdf764beeb005a652ae',
      ],
      [
        '5221022ccabda84c30bad578b13c89eb3b9544ce149787e5b538175b1d1ba259cbb83321024d902e1a2fc7a8755ab5b694c575fce742c48d9ff192e63df5193e4c7afe1f9c52ae',
      ],
    ],
  },
];

const scriptsAt = (text: string, pos: number) =>
  expandDescriptor(parseDescriptorText(text, MAIN), pos).scripts.map(bytesToHex);

test("Core's descriptor vectors: the private form reads to the public canonical form and Core's scripts", () => {
  for (const v of VECTORS) {
    const prv = parseDescriptorText(v.prv, MAIN);
    assert.equal(descriptorString(prv), v.pub, v.prv);
    assert.equal(prv.hasPrivateKeys, true, v.prv);
    assert.equal(prv.isRange, v.range === true, v.prv);
    assert.equal(prv.isSolvable, true, v.prv);
    const pub = parseDescriptorText(v.pub, MAIN);
    assert.equal(descriptorString(pub), v.pub);
    assert.equal(pub.hasPrivateKeys, false, v.pub);
    v.scripts.forEach((want, pos) => {
      assert.deepEqual(scriptsAt(v.prv, pos), want, `${v.prv} at ${pos}`);
      if (v.hardened)
        assert.throws(() => scriptsAt(v.pub, pos), {
          name: 'DescriptorError',
          message: 'Cannot derive script without private keys',
        });
      else assert.deepEqual(scriptsAt(v.pub, pos), want, `${v.pub} at ${pos}`);
    });
  }
});

test("Core's checksum vectors: ggrsrxfy and tjg09x5t, and its checksum errors", () => {
  const prv = `sh(multi(2,[00000000/111'/222]${XPRV_A},${XPRV_B}/0))`;
  const pub = `sh(multi(2,[00000000/111'/222]${XPUB_A},${XPUB_B}/0))`;
  assert.equal(descriptorChecksum(prv), 'ggrsrxfy');
  assert.equal(descriptorChecksum(pub), 'tjg09x5t');
  assert.equal(descriptorString(parseDescriptorText(`${prv}#ggrsrxfy`, MAIN, true)), pub);
  const refused: [string, string][] = [
    [`${pub}#tjq09x4t`, "Provided checksum 'tjq09x4t' does not match computed checksum 'tjg09x5t'"],
    [`${pub}#`, 'Expected 8 character checksum, not 0 characters'],
    [`${pub}#tjg09x5`, 'Expected 8 character checksum, not 7 characters'],
    [`${pub}#tjg09x5t#tjg09x5t`, "Multiple '#' symbols"],
    [pub, 'Missing checksum'],
    ['raw(é)#00000000', 'Invalid characters in payload'],
  ];
  for (const [text, message] of refused)
    assert.throws(() => parseDescriptorText(text, MAIN, true), { name: 'DescriptorError', message }, text);
});

test("Core's parse errors, word for word (Tally prefixes the function as Core's master does)", () => {
  // Keys of private keys 1..17 for the multisig size limits.
  const wifs = Array.from({ length: 17 }, (_, i) => {
    const k = new Uint8Array(32);
    k[31] = i + 1;
    return encodeWif(k, true, MAIN);
  });
  const cases: [string, string][] = [
    [
      `pkh(deadbeef/1/2'/3/4']${WIF_C})`,
      "pkh(): Key origin start '[ character expected but not found, got 'd' instead",
    ],
    [`pkh([deadbeef]/1/2'/3/4']${WIF_C})`, "pkh(): Multiple ']' characters found for a single pubkey"],
    [
      `combo([012345678]${XPRV_A})`,
      'combo(): Fingerprint is not 4 bytes (9 characters instead of 8 characters)',
    ],
    [`pkh([aaagaaaa]${XPRV_A})`, "pkh(): Fingerprint 'aaagaaaa' is not hex"],
    [`multi(2,[aaaaaaaa],${XPRV_A})`, 'Multi: No key provided'],
    [`pkh(${XPRV_C}/2147483648)`, 'pkh(): Key path value 2147483648 is out of range'],
    [`pkh(${XPRV_C}/1aa)`, "pkh(): Key path value '1aa' is not a valid uint32"],
    [`pk(${PUB_C.slice(0, -2)})`, `pk(): Pubkey '${PUB_C.slice(0, -2)}' is invalid`],
    [`pk(06${PUB_U.slice(2)})`, 'pk(): Hybrid public keys are not allowed'],
    [`pk(${XPUB_A.slice(0, -1)}x)`, `pk(): key '${XPUB_A.slice(0, -1)}x' is not valid`],
    [`multi(a,${WIF_C},${WIF_U})`, "Multi threshold 'a' is not valid"],
    [`multi(0,${WIF_C},${WIF_U})`, 'Multisig threshold cannot be 0, must be at least 1'],
    [
      `multi(3,${WIF_C},${WIF_U})`,
      'Multisig threshold cannot be larger than the number of keys; threshold is 3 but only 2 keys specified',
    ],
    [
      `multi(3,${wifs.slice(0, 4).join(',')})`,
      'Cannot have 4 pubkeys in bare multisig; only at most 3 pubkeys',
    ],
    [
      `sh(multi(16,${wifs.slice(0, 16).join(',')}))`,
      'P2SH script is too large, 547 bytes is larger than 520 bytes',
    ],
    [`sh(${WIF_C})`, 'A function is needed within P2SH'],
    [`sh(combo(${WIF_C}))`, 'Can only have combo() at top level'],
    [`sh(sh(pk(${WIF_C})))`, 'Can only have sh() at top level'],
    [`sh(addr(1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2))`, 'Can only have addr() at top level'],
    ['raw(0g)', 'Raw script is not hex'],
    ['addr(notanaddress)', 'Address is not valid'],
    [`wpkh(${WIF_C})`, 'wpkh(): SegWit and Taproot descriptors do not apply to a pre-SegWit chain'],
    [`sh(wsh(pk(${WIF_C})))`, 'wsh(): SegWit and Taproot descriptors do not apply to a pre-SegWit chain'],
    [`foo(${WIF_C})`, `'foo(${WIF_C})' is not a valid descriptor function`],
  ];
  for (const [text, message] of cases)
    assert.throws(() => parseDescriptorText(text, MAIN), { name: 'DescriptorError', message }, text);
  assert.ok(new DescriptorError('x') instanceof Error);
});

test("hardened markers print as given (' or h), origins lowercased; Core's inferred descriptors name origins", () => {
  assert.equal(
    descriptorString(parseDescriptorText(`pkh([DEADBEEF/1h/2]${PUB_C})`, MAIN)),
    `pkh([deadbeef/1h/2]${PUB_C})`,
  );
  assert.equal(
    descriptorString(parseDescriptorText(`pkh(${XPRV_C}/2147483647h/0/*h)`, MAIN)),
    `pkh(${XPUB_C}/2147483647h/0/*h)`,
  );
  const d = parseDescriptorText(`sh(multi(2,[00000000/111'/222]${XPUB_A},${XPUB_B}/0))`, MAIN);
  const x = expandDescriptor(d, 0);
  const fpB = (HDKey.fromExtendedKey(XPUB_B).fingerprint >>> 0).toString(16).padStart(8, '0');
  const inferred = inferDescriptor(x.scripts[0], MAIN, x.info);
  const keys = [...x.info.keys.values()].map((k) => bytesToHex(k.pubkey));
  assert.equal(inferred.split('#')[0], `sh(multi(2,[00000000/111h/222]${keys[0]},[${fpB}/0]${keys[1]}))`);
  // Without what the descriptor named, the same output is only an address.
  assert.match(inferDescriptor(x.scripts[0], MAIN), /^addr\(3/);
  const ranged = parseDescriptorText(`pkh(${XPUB_D}/*)`, MAIN);
  const at5 = expandDescriptor(ranged, 5);
  const fpD = (HDKey.fromExtendedKey(XPUB_D).fingerprint >>> 0).toString(16).padStart(8, '0');
  assert.match(
    inferDescriptor(at5.scripts[0], MAIN, at5.info),
    new RegExp(`^pkh\\(\\[${fpD}/5\\]0[23][0-9a-f]{64}\\)#`),
  );
});

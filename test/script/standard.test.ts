// Templates, the recogniser, sigop counting, script numbers and the ASM parser/printer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { readVectorJson } from '../vectors.js';
import { bytesToHex, hexToBytes } from '../../src/primitives/bytes.js';
import { parseCoreAsm, scriptToAsm } from '../../src/script/asm.js';
import { ScriptError } from '../../src/script/errors.js';
import { decodeNum, encodeNum } from '../../src/script/num.js';
import { countSigOps, countP2SHSigOps } from '../../src/script/sigops.js';
import {
  classifyScript,
  isPushOnly,
  multisigScript,
  nullDataScript,
  p2pkScript,
  p2pkhScript,
  p2shScript,
  pushData,
  pushNumber,
} from '../../src/script/standard.js';

const pub33 = Uint8Array.from([2, ...new Array(32).fill(0x11)]);
const pub65 = Uint8Array.from([4, ...new Array(64).fill(0x22)]);
const h20 = new Uint8Array(20).fill(0xab);

test('templates round-trip through classifyScript', () => {
  assert.deepEqual(classifyScript(p2pkhScript(h20)), { type: 'pubkeyhash', hash: h20 });
  assert.deepEqual(classifyScript(p2shScript(h20)), { type: 'scripthash', hash: h20 });
  assert.deepEqual(classifyScript(p2pkScript(pub65)), { type: 'pubkey', pubkey: pub65 });
  assert.deepEqual(classifyScript(multisigScript(1, [pub33, pub65])), {
    type: 'multisig',
    m: 1,
    pubkeys: [pub33, pub65],
  });
  assert.deepEqual(classifyScript(nullDataScript(Uint8Array.of(1, 2, 3))), {
    type: 'nulldata',
    data: [Uint8Array.of(1, 2, 3)],
  });
  assert.equal(classifyScript(Uint8Array.of(0x6a)).type, 'nulldata');
  assert.equal(
    classifyScript(parseCoreAsm('2 0x21 0x' + bytesToHex(pub33) + ' 1 CHECKMULTISIG')).type,
    'nonstandard',
  );
  assert.equal(classifyScript(parseCoreAsm('1 DROP')).type, 'nonstandard');
  assert.throws(() => multisigScript(3, [pub33, pub33]), RangeError);
  assert.throws(() => p2pkhScript(new Uint8Array(19)), RangeError);
});

test('pushes are minimal (MINIMALDATA-clean)', () => {
  assert.deepEqual(pushData(new Uint8Array(0)), Uint8Array.of(0));
  assert.deepEqual(pushData(Uint8Array.of(5)), Uint8Array.of(0x55));
  assert.deepEqual(pushData(Uint8Array.of(0x81)), Uint8Array.of(0x4f));
  assert.equal(pushData(new Uint8Array(76))[0], 0x4c);
  assert.equal(pushData(new Uint8Array(256))[0], 0x4d);
  assert.deepEqual(pushNumber(-1), Uint8Array.of(0x4f));
  assert.deepEqual(pushNumber(1000), Uint8Array.of(2, 0xe8, 0x03));
  assert.ok(isPushOnly(parseCoreAsm('0 1 16 0x02 0xffff')));
  assert.ok(!isPushOnly(parseCoreAsm('1 DUP')));
});

test('sigop counting: legacy vs accurate, P2SH redeem scripts', () => {
  const ms = multisigScript(2, [pub33, pub33, pub33]);
  assert.equal(countSigOps(ms, false), 20);
  assert.equal(countSigOps(ms, true), 3);
  assert.equal(countSigOps(parseCoreAsm('CHECKSIG CHECKSIGVERIFY 0x01'), false), 2);
  const scriptSig = Uint8Array.from([0, ...pushData(ms)]);
  assert.equal(countP2SHSigOps(p2shScript(h20), scriptSig), 3);
  assert.equal(countP2SHSigOps(p2shScript(h20), Uint8Array.of(0x61)), 0);
});

test('script numbers: bitcoinjs script_number.json, minimal-encoding rule', () => {
  const cases = readVectorJson<{ hex: string; number: number }[]>('bitcoinjs-lib', 'script_number.json');
  for (const { hex, number } of cases) {
    const b = hexToBytes(hex);
    assert.equal(decodeNum(b, true, 5), number, hex);
    assert.equal(bytesToHex(encodeNum(number)), hex);
  }
  assert.throws(() => decodeNum(Uint8Array.of(1, 0), true), ScriptError);
  assert.equal(decodeNum(Uint8Array.of(1, 0), false), 1);
  assert.throws(() => decodeNum(new Uint8Array(5), false), ScriptError);
  fc.assert(
    fc.property(fc.integer({ min: -(2 ** 39) + 1, max: 2 ** 39 - 1 }), (n) => {
      assert.equal(decodeNum(encodeNum(n), true, 5), n);
    }),
  );
});

test('ASM: Core test syntax in, decodescript asm out', () => {
  assert.equal(
    bytesToHex(parseCoreAsm("0 -1 16 17 'ab' 0x4c01ff ADD OP_CHECKSIG NOP2")),
    '004f600111026162' + '4c01ff93acb1',
  );
  assert.equal(
    scriptToAsm(parseCoreAsm('DUP HASH160 0x14 0x' + 'ab'.repeat(20) + ' EQUALVERIFY CHECKSIG')),
    `OP_DUP OP_HASH160 ${'ab'.repeat(20)} OP_EQUALVERIFY OP_CHECKSIG`,
  );
  assert.equal(scriptToAsm(parseCoreAsm('0 -1 1000 0x4b')), '0 -1 1000 [error]');
  assert.throws(() => parseCoreAsm('FOO'), /unknown opcode/);
  assert.throws(() => parseCoreAsm('4294967296'), /range/);
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), (b) => {
      const asm = scriptToAsm(b);
      assert.equal(typeof asm, 'string');
    }),
  );
});

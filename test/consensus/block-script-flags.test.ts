// Which script flags a block is verified under, by soft-fork heights (Core's GetBlockScriptFlags).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { blockScriptFlags } from '../../src/consensus/flags.js';
import { getParams } from '../../src/consensus/params.js';
import { MANDATORY_SCRIPT_FLAGS, ScriptFlags } from '../../src/script/flags.js';
import { hashFromHex } from '../../src/primitives/bytes.js';

const anyHash = new Uint8Array(32).fill(1);

test('flags switch on at each activation height', () => {
  const p = { bip16Height: 10, bip66Height: 20, bip65Height: 30, csvHeight: 40, bip147Height: 50 };
  assert.equal(blockScriptFlags(9, anyHash, p), ScriptFlags.NONE);
  assert.equal(blockScriptFlags(10, anyHash, p), ScriptFlags.P2SH);
  assert.equal(blockScriptFlags(20, anyHash, p), ScriptFlags.P2SH | ScriptFlags.DERSIG);
  assert.equal(
    blockScriptFlags(30, anyHash, p),
    ScriptFlags.P2SH | ScriptFlags.DERSIG | ScriptFlags.CHECKLOCKTIMEVERIFY,
  );
  assert.equal(
    blockScriptFlags(40, anyHash, p),
    ScriptFlags.P2SH | ScriptFlags.DERSIG | ScriptFlags.CHECKLOCKTIMEVERIFY | ScriptFlags.CHECKSEQUENCEVERIFY,
  );
  assert.equal(blockScriptFlags(50, anyHash, p), MANDATORY_SCRIPT_FLAGS);
});

test('the BIP16 exception block (Bitcoin 170,060) is verified without P2SH', () => {
  const p = { bip16Height: 0, bip66Height: 1e9, bip65Height: 1e9, csvHeight: 1e9, bip147Height: 1e9 };
  const exception = hashFromHex('00000000000002dc756eebf4f49723ed8d30cc28a5f108eb94b1ba88ac4f9c22');
  assert.equal(blockScriptFlags(170_060, exception, p), ScriptFlags.NONE);
  assert.equal(blockScriptFlags(170_060, anyHash, p), ScriptFlags.P2SH);
});

test('all soft forks at height 0 (as on Tally) gives the mandatory flags from genesis on', () => {
  const p = { bip16Height: 0, bip66Height: 0, bip65Height: 0, csvHeight: 0, bip147Height: 0 };
  assert.equal(blockScriptFlags(0, anyHash, p), MANDATORY_SCRIPT_FLAGS);
  assert.equal(blockScriptFlags(987_654, anyHash, p), MANDATORY_SCRIPT_FLAGS);
});

test("Tally's networks: every soft fork from height 0, so mandatory flags everywhere", () => {
  for (const name of ['main', 'test', 'regtest'] as const) {
    assert.equal(blockScriptFlags(0, anyHash, getParams(name)), MANDATORY_SCRIPT_FLAGS, name);
    assert.equal(blockScriptFlags(123_456, anyHash, getParams(name)), MANDATORY_SCRIPT_FLAGS, name);
  }
});

test('the bitcoin preset: P2SH throughout except block 170,060; all flags from BIP147', () => {
  const p = getParams('bitcoin');
  const exception = hashFromHex('00000000000002dc756eebf4f49723ed8d30cc28a5f108eb94b1ba88ac4f9c22');
  assert.equal(blockScriptFlags(170_060, exception, p), ScriptFlags.NONE);
  assert.equal(blockScriptFlags(170_000, anyHash, p), ScriptFlags.P2SH);
  assert.equal(blockScriptFlags(p.bip147Height - 1, anyHash, p) & ScriptFlags.NULLDUMMY, 0);
  assert.equal(blockScriptFlags(p.bip147Height, anyHash, p), MANDATORY_SCRIPT_FLAGS);
});

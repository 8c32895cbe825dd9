// The interpreter's limits and edge rules, signing round trips through the standard templates,
// and property tests: on random scripts and stacks it only ever throws ScriptError and never
// exceeds its limits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { hash160 } from '../../src/crypto/hash.js';
import { publicKeyFromPrivate, signDer } from '../../src/crypto/secp256k1.js';
import { OutPoint, Tx, TxIn, TxOut } from '../../src/primitives/tx.js';
import { parseCoreAsm } from '../../src/script/asm.js';
import { ScriptError } from '../../src/script/errors.js';
import {
  MANDATORY_SCRIPT_FLAGS,
  STANDARD_SCRIPT_FLAGS,
  ScriptFlags as F,
  parseFlags,
} from '../../src/script/flags.js';
import {
  MAX_STACK_SIZE,
  NO_TX_CHECKER,
  TxSignatureChecker,
  evalScript,
  verifyInput,
  verifyScript,
} from '../../src/script/interpreter.js';
import { OP } from '../../src/script/opcodes.js';
import { SIGHASH_ALL, SIGHASH_SINGLE, signatureHash } from '../../src/script/sighash.js';
import { SigCache } from '../../src/script/sigcache.js';
import { multisigScript, p2pkhScript, p2shScript, pushData } from '../../src/script/standard.js';
import { concatBytes } from '../../src/primitives/bytes.js';

function code(fn: () => void): string {
  try {
    fn();
    return 'OK';
  } catch (e) {
    if (e instanceof ScriptError) return e.code;
    throw e;
  }
}

const run = (asm: string, flags = 0): string =>
  code(() => verifyScript(new Uint8Array(0), parseCoreAsm(asm), flags, NO_TX_CHECKER));

test('flags: parse, the policy and consensus sets', () => {
  assert.equal(parseFlags('P2SH,STRICTENC'), F.P2SH | F.STRICTENC);
  assert.equal(parseFlags(''), 0);
  assert.throws(() => parseFlags('P2SH,BOGUS'), /BOGUS/);
  assert.equal(STANDARD_SCRIPT_FLAGS & MANDATORY_SCRIPT_FLAGS, MANDATORY_SCRIPT_FLAGS);
  assert.ok(STANDARD_SCRIPT_FLAGS & F.LOW_S && !(MANDATORY_SCRIPT_FLAGS & F.LOW_S));
});

test('limits: element size, op count, script size, stack size', () => {
  assert.equal(run(`0x4d 0x0802 0x${'00'.repeat(520)} DROP 1`), 'OK');
  assert.equal(run(`0x4d 0x0902 0x${'00'.repeat(521)} DROP 1`), 'PUSH_SIZE');
  // An oversized push fails even where it is not executed.
  assert.equal(run(`0 IF 0x4d 0x0902 0x${'00'.repeat(521)} ENDIF 1`), 'PUSH_SIZE');
  assert.equal(run(`1 ${'NOP '.repeat(201)}`), 'OK');
  assert.equal(run(`1 ${'NOP '.repeat(202)}`), 'OP_COUNT');
  assert.equal(run(`1 0x${'61'.repeat(10_000)}`), 'SCRIPT_SIZE');
  assert.equal(run(`1 0x${'61'.repeat(9_999)}`), 'OP_COUNT');
  assert.equal(run(`${'1 '.repeat(1000)}`), 'OK');
  assert.equal(run(`${'1 '.repeat(1001)}`), 'STACK_SIZE');
  assert.equal(run(`${'1 '.repeat(999)} TOALTSTACK 1 1`), 'STACK_SIZE');
});

test('disabled opcodes fail even in an unexecuted branch; reserved ones only when run', () => {
  for (const op of [
    'CAT',
    'SUBSTR',
    'LEFT',
    'RIGHT',
    'INVERT',
    'AND',
    'OR',
    'XOR',
    '2MUL',
    '2DIV',
    'MUL',
    'DIV',
    'MOD',
    'LSHIFT',
    'RSHIFT',
  ]) {
    assert.equal(run(`0 IF ${op} ENDIF 1`), 'DISABLED_OPCODE', op);
  }
  assert.equal(run('0 IF VER RESERVED ENDIF 1'), 'OK');
  assert.equal(run('0 IF VERIF ENDIF 1'), 'BAD_OPCODE');
  assert.equal(run('1 IF 1 ELSE 0 ELSE 1 ENDIF'), 'OK');
  assert.equal(run('1 IF 1'), 'UNBALANCED_CONDITIONAL');
  assert.equal(run('1 ENDIF'), 'UNBALANCED_CONDITIONAL');
});

test('script numbers: 4-byte operands, 5-byte lock times, MINIMALDATA', () => {
  assert.equal(run('0x04 0xffffff7f 1ADD 0x05 0x0000008000 EQUAL'), 'OK');
  assert.equal(run('0x05 0x0000008000 1ADD DROP 1'), 'SCRIPTNUM');
  assert.equal(run('0x02 0x0100 1ADD DROP 1', F.MINIMALDATA), 'SCRIPTNUM');
  assert.equal(run('0x01 0x05 DROP 1', F.MINIMALDATA), 'MINIMALDATA');
  const cltv = (lock: string, txLock: number, seq = 0): string => {
    const pub = parseCoreAsm(`${lock} CHECKLOCKTIMEVERIFY DROP 1`);
    const tx = new Tx(
      1,
      [new TxIn(new OutPoint(new Uint8Array(32).fill(1), 0), new Uint8Array(0), seq)],
      [],
      txLock,
    );
    return code(() =>
      verifyScript(new Uint8Array(0), pub, F.CHECKLOCKTIMEVERIFY, new TxSignatureChecker(tx, 0, 0n)),
    );
  };
  assert.equal(cltv('0x05 0x0000000001', 0xffffffff), 'UNSATISFIED_LOCKTIME');
  assert.equal(cltv('0x05 0x00ca9a3b00', 1_000_000_000), 'OK');
  assert.equal(cltv('100', 99), 'UNSATISFIED_LOCKTIME');
  assert.equal(cltv('100', 100), 'OK');
  assert.equal(cltv('100', 100, 0xffffffff), 'UNSATISFIED_LOCKTIME');
  assert.equal(cltv('-1', 100), 'NEGATIVE_LOCKTIME');
  assert.equal(cltv('600000000', 100), 'UNSATISFIED_LOCKTIME');
});

/** A one-input transaction spending `prev`, signed by `sign(tx)` into its scriptSig. */
function spend(prev: Uint8Array, sign: (tx: Tx) => Uint8Array, seq = 0xffffffff): Tx {
  const unsigned = new Tx(
    1,
    [new TxIn(new OutPoint(new Uint8Array(32).fill(7), 1), new Uint8Array(0), seq)],
    [new TxOut(5000n, p2pkhScript(new Uint8Array(20)))],
    0,
  );
  const sig = sign(unsigned);
  return new Tx(1, [new TxIn(unsigned.inputs[0].prevout, sig, seq)], unsigned.outputs, 0);
}

const keys = [1, 2, 3].map((k) => {
  const sk = new Uint8Array(32);
  sk[31] = k;
  return { sk, pub: publicKeyFromPrivate(sk, true) };
});

function sigFor(tx: Tx, scriptCode: Uint8Array, sk: Uint8Array, type = SIGHASH_ALL): Uint8Array {
  return concatBytes(signDer(signatureHash(scriptCode, tx, 0, type), sk), Uint8Array.of(type));
}

test('P2PKH, bare multisig and P2SH multisig spends verify under the standard flags', () => {
  const pkh = p2pkhScript(hash160(keys[0].pub));
  const tx1 = spend(pkh, (tx) => concatBytes(pushData(sigFor(tx, pkh, keys[0].sk)), pushData(keys[0].pub)));
  verifyInput(tx1, 0, new TxOut(1n, pkh), STANDARD_SCRIPT_FLAGS);
  // Wrong key: EVAL_FALSE without NULLFAIL, NULLFAIL with it.
  const bad = spend(pkh, (tx) => concatBytes(pushData(sigFor(tx, pkh, keys[1].sk)), pushData(keys[0].pub)));
  assert.equal(
    code(() => verifyInput(bad, 0, new TxOut(1n, pkh), MANDATORY_SCRIPT_FLAGS)),
    'EVAL_FALSE',
  );
  assert.equal(
    code(() => verifyInput(bad, 0, new TxOut(1n, pkh), STANDARD_SCRIPT_FLAGS)),
    'NULLFAIL',
  );

  const ms = multisigScript(
    2,
    keys.map((k) => k.pub),
  );
  const tx2 = spend(ms, (tx) =>
    concatBytes(
      Uint8Array.of(OP.OP_0),
      pushData(sigFor(tx, ms, keys[0].sk)),
      pushData(sigFor(tx, ms, keys[2].sk)),
    ),
  );
  verifyInput(tx2, 0, new TxOut(1n, ms), STANDARD_SCRIPT_FLAGS);
  // Signatures out of key order cannot match.
  const tx2b = spend(ms, (tx) =>
    concatBytes(
      Uint8Array.of(OP.OP_0),
      pushData(sigFor(tx, ms, keys[2].sk)),
      pushData(sigFor(tx, ms, keys[0].sk)),
    ),
  );
  assert.equal(
    code(() => verifyInput(tx2b, 0, new TxOut(1n, ms), MANDATORY_SCRIPT_FLAGS)),
    'EVAL_FALSE',
  );

  const p2sh = p2shScript(hash160(ms));
  const tx3 = spend(p2sh, (tx) =>
    concatBytes(
      Uint8Array.of(OP.OP_0),
      pushData(sigFor(tx, ms, keys[1].sk)),
      pushData(sigFor(tx, ms, keys[2].sk)),
      pushData(ms),
    ),
  );
  verifyInput(tx3, 0, new TxOut(1n, p2sh), STANDARD_SCRIPT_FLAGS);
  // A non-zero dummy is consensus-invalid under NULLDUMMY.
  const tx3b = spend(p2sh, (tx) =>
    concatBytes(
      Uint8Array.of(OP.OP_1),
      pushData(sigFor(tx, ms, keys[1].sk)),
      pushData(sigFor(tx, ms, keys[2].sk)),
      pushData(ms),
    ),
  );
  assert.equal(
    code(() => verifyInput(tx3b, 0, new TxOut(1n, p2sh), MANDATORY_SCRIPT_FLAGS)),
    'SIG_NULLDUMMY',
  );
});

test('SIGHASH_SINGLE past the last output signs uint256(1)', () => {
  const tx = new Tx(
    1,
    [
      new TxIn(new OutPoint(new Uint8Array(32), 0), new Uint8Array(0)),
      new TxIn(new OutPoint(new Uint8Array(32), 1), new Uint8Array(0)),
    ],
    [new TxOut(1n, new Uint8Array(0))],
    0,
  );
  const h = signatureHash(new Uint8Array(0), tx, 1, SIGHASH_SINGLE);
  assert.equal(h[0], 1);
  assert.ok(h.subarray(1).every((b) => b === 0));
});

test('signature cache: hits on repeat, bounded, stores only successes', () => {
  const pkh = p2pkhScript(hash160(keys[0].pub));
  const tx = spend(pkh, (t) => concatBytes(pushData(sigFor(t, pkh, keys[0].sk)), pushData(keys[0].pub)));
  const cache = new SigCache(2);
  verifyInput(tx, 0, new TxOut(1n, pkh), STANDARD_SCRIPT_FLAGS, cache);
  verifyInput(tx, 0, new TxOut(1n, pkh), STANDARD_SCRIPT_FLAGS, cache);
  assert.equal(cache.hits, 1);
  assert.equal(cache.size, 1);
  const bad = spend(pkh, (t) => concatBytes(pushData(sigFor(t, pkh, keys[1].sk)), pushData(keys[0].pub)));
  code(() => verifyInput(bad, 0, new TxOut(1n, pkh), MANDATORY_SCRIPT_FLAGS, cache));
  assert.equal(cache.size, 1);
  for (let i = 0; i < 5; i++) cache.add(`k${i}`);
  assert.equal(cache.size, 2);
});

// Opcodes weighted toward the ones that branch, loop over the stack or grow it.
const interesting = [
  OP.OP_IF,
  OP.OP_NOTIF,
  OP.OP_ELSE,
  OP.OP_ENDIF,
  OP.OP_DUP,
  OP.OP_2DUP,
  OP.OP_3DUP,
  OP.OP_PICK,
  OP.OP_ROLL,
  OP.OP_TOALTSTACK,
  OP.OP_FROMALTSTACK,
  OP.OP_CHECKMULTISIG,
  OP.OP_CHECKSIG,
  OP.OP_ADD,
  OP.OP_SIZE,
  OP.OP_DEPTH,
  OP.OP_1,
  OP.OP_16,
  OP.OP_1NEGATE,
  OP.OP_0,
  OP.OP_CHECKLOCKTIMEVERIFY,
  OP.OP_CHECKSEQUENCEVERIFY,
  OP.OP_CODESEPARATOR,
];
const arbScript = fc
  .array(fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constantFrom(...interesting)), { maxLength: 300 })
  .map((a) => Uint8Array.from(a));
const arbStack = fc.array(fc.uint8Array({ maxLength: 10 }), { maxLength: 20 });

test('property: random scripts and stacks only ever fail with ScriptError, within the limits', () => {
  const tx = new Tx(
    2,
    [new TxIn(new OutPoint(new Uint8Array(32).fill(3), 0), new Uint8Array(0), 5)],
    [new TxOut(1n, new Uint8Array(0))],
    100,
  );
  const checker = new TxSignatureChecker(tx, 0, 1n);
  fc.assert(
    fc.property(arbScript, arbStack, fc.integer({ min: 0, max: 0x1ffff }), (script, stack, flags) => {
      const s = stack.slice();
      try {
        evalScript(s, script, flags, checker);
      } catch (e) {
        if (!(e instanceof ScriptError)) throw e;
        return;
      }
      assert.ok(s.length <= MAX_STACK_SIZE);
      for (const item of s) assert.ok(item.length <= 520);
    }),
    { numRuns: 3000 },
  );
});

test('stack growth from a deep starting stack stops at 1,000 items', () => {
  const start = Array.from({ length: 995 }, () => new Uint8Array(1));
  const script = Uint8Array.from([OP.OP_3DUP, OP.OP_3DUP]);
  assert.equal(
    code(() => evalScript(start, script, 0, NO_TX_CHECKER)),
    'STACK_SIZE',
  );
});

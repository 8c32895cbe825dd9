// Bitcoin Core's script_tests.json: every legacy case reproduces Core's VerifyScript verdict and
// ScriptError name, on Core's crediting/spending transaction pair.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readVectorJson } from '../vectors.js';
import { OutPoint, Tx, TxIn, TxOut } from '../../src/primitives/tx.js';
import { parseCoreAsm } from '../../src/script/asm.js';
import { ScriptError } from '../../src/script/errors.js';
import { ScriptFlags } from '../../src/script/flags.js';
import { TxSignatureChecker, verifyScript } from '../../src/script/interpreter.js';
import { legacyCases, newTally, report, vectorFlags } from './harness.js';

/** Core's BuildCreditingTransaction / BuildSpendingTransaction. */
export function spendPair(scriptSig: Uint8Array, scriptPubKey: Uint8Array, amount = 0n): Tx {
  const credit = new Tx(
    1,
    [new TxIn(new OutPoint(new Uint8Array(32), 0xffffffff), Uint8Array.of(0, 0), 0xffffffff)],
    [new TxOut(amount, scriptPubKey)],
    0,
  );
  return new Tx(
    1,
    [new TxIn(new OutPoint(credit.txid(), 0), scriptSig, 0xffffffff)],
    [new TxOut(amount, new Uint8Array(0))],
    0,
  );
}

function outcome(fn: () => void): string {
  try {
    fn();
    return 'OK';
  } catch (e) {
    if (e instanceof ScriptError) return e.code;
    throw e;
  }
}

test('script_tests.json: legacy and legacy-extra cases', () => {
  const cases = readVectorJson<unknown[][]>('bitcoin-core', 'script_tests.json');
  const { run, skip } = legacyCases('script_tests.json');
  const t = newTally();
  cases.forEach((c, i) => {
    if (c.length === 1) return; // comment
    if (skip.has(i)) {
      t.skipped++;
      return;
    }
    assert.ok(run.has(i), `case ${i} is in no subset`);
    const [sigAsm, pubAsm, flagStr, expected] = c as string[];
    let flags = vectorFlags(flagStr);
    // Core's harness: CLEANSTACK is only defined together with P2SH (and WITNESS).
    if (flags & ScriptFlags.CLEANSTACK) flags |= ScriptFlags.P2SH;
    const scriptSig = parseCoreAsm(sigAsm);
    const scriptPubKey = parseCoreAsm(pubAsm);
    const tx = spendPair(scriptSig, scriptPubKey);
    const got = outcome(() =>
      verifyScript(scriptSig, scriptPubKey, flags, new TxSignatureChecker(tx, 0, 0n)),
    );
    if (got === expected) t.passed++;
    else {
      t.failed++;
      t.failures.push(`#${i} [${sigAsm}] [${pubAsm}] ${flagStr}: expected ${expected}, got ${got}`);
    }
  });
  report('script_tests.json', t);
  assert.deepEqual(t.failures, []);
  assert.equal(t.passed, 1108);
});

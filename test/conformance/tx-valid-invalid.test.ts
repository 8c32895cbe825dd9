// Bitcoin Core's tx_valid.json and tx_invalid.json, legacy cases: whole transactions verified
// input by input, with Core's flag rules (tx_valid: all flags but the excluded ones, and any
// single one removed; tx_invalid: the listed flags fail, any added still fail, any single one
// removed passes; BADTX fails the context-free CheckTransaction).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readVectorJson } from '../vectors.js';
import { hashFromHex, hexToBytes } from '../../src/primitives/bytes.js';
import { Tx, TxOut } from '../../src/primitives/tx.js';
import { parseCoreAsm } from '../../src/script/asm.js';
import { ScriptError } from '../../src/script/errors.js';
import { verifyInput } from '../../src/script/interpreter.js';
import { checkTransaction } from '../../src/consensus/tx-check.js';
import { RejectError } from '../../src/consensus/errors.js';
import {
  ALL_FLAGS,
  FLAG_BITS,
  fillFlags,
  legacyCases,
  newTally,
  report,
  trimFlags,
  vectorFlags,
} from './harness.js';

/** Core's CheckTransaction verdict: the reject reason, or null when the transaction passes. */
function checkTransactionReason(tx: Tx): string | null {
  try {
    checkTransaction(tx);
    return null;
  } catch (e) {
    if (e instanceof RejectError) return e.reason;
    throw e;
  }
}

type Case = [[string, number, string, number?][], string, string];

interface Loaded {
  tx: Tx;
  prev: Map<string, TxOut>;
}

function load(c: Case): Loaded {
  const prev = new Map<string, TxOut>();
  for (const [txid, index, asm, amount] of c[0]) {
    const key = `${Buffer.from(hashFromHex(txid)).toString('hex')}:${index === -1 ? 0xffffffff : index}`;
    prev.set(key, new TxOut(BigInt(amount ?? 0), parseCoreAsm(asm)));
  }
  return { tx: Tx.decode(hexToBytes(c[1])), prev };
}

/** Core's CheckTxScripts: every input verifies (a missing prevout is a failure). */
function scriptsValid({ tx, prev }: Loaded, flags: number): string {
  for (let i = 0; i < tx.inputs.length; i++) {
    const out = prev.get(tx.inputs[i].prevout.key());
    if (!out) return `input ${i}: missing prevout`;
    try {
      verifyInput(tx, i, out, flags);
    } catch (e) {
      if (e instanceof ScriptError) return `input ${i}: ${e.code}`;
      throw e;
    }
  }
  return 'OK';
}

test('tx_valid.json: legacy and legacy-extra cases', () => {
  const cases = readVectorJson<unknown[][]>('bitcoin-core', 'tx_valid.json');
  const { run, skip } = legacyCases('tx_valid.json');
  const t = newTally();
  cases.forEach((raw, i) => {
    if (typeof raw[0] === 'string') return; // comment
    if (skip.has(i)) {
      t.skipped++;
      return;
    }
    assert.ok(run.has(i));
    const c = raw as Case;
    const problems: string[] = [];
    const loaded = load(c);
    const bad = checkTransactionReason(loaded.tx);
    if (bad) problems.push(`CheckTransaction: ${bad}`);
    const excluded = vectorFlags(c[2]);
    const flags = ALL_FLAGS & ~excluded;
    const r = scriptsValid(loaded, flags);
    if (r !== 'OK') problems.push(`flags ${flags}: ${r}`);
    for (const f of FLAG_BITS) {
      const fewer = trimFlags(flags & ~f);
      const r2 = scriptsValid(loaded, fewer);
      if (r2 !== 'OK') problems.push(`without flag ${f}: ${r2}`);
    }
    if (problems.length === 0) t.passed++;
    else {
      t.failed++;
      t.failures.push(`#${i} (${c[2]}): ${problems.join('; ')}`);
    }
  });
  report('tx_valid.json', t);
  assert.deepEqual(t.failures, []);
  assert.equal(t.passed, 92);
});

test('tx_invalid.json: legacy and legacy-extra cases', () => {
  const cases = readVectorJson<unknown[][]>('bitcoin-core', 'tx_invalid.json');
  const { run, skip } = legacyCases('tx_invalid.json');
  const t = newTally();
  cases.forEach((raw, i) => {
    if (typeof raw[0] === 'string') return;
    if (skip.has(i)) {
      t.skipped++;
      return;
    }
    assert.ok(run.has(i));
    const c = raw as Case;
    const problems: string[] = [];
    const loaded = load(c);
    const bad = checkTransactionReason(loaded.tx);
    if (c[2] === 'BADTX') {
      if (!bad) problems.push('BADTX passed CheckTransaction');
    } else if (bad) {
      problems.push(`unexpected CheckTransaction failure ${bad}`);
    } else {
      const flags = vectorFlags(c[2]);
      if (scriptsValid(loaded, flags) === 'OK') problems.push('valid under its flags');
      for (const f of FLAG_BITS) {
        if (scriptsValid(loaded, fillFlags(flags | f)) === 'OK') problems.push(`valid with flag ${f} added`);
      }
      for (const f of FLAG_BITS) {
        if (!(flags & f)) continue;
        const r = scriptsValid(loaded, trimFlags(flags & ~f));
        if (r !== 'OK') problems.push(`still invalid without flag ${f}: ${r}`);
      }
    }
    if (problems.length === 0) t.passed++;
    else {
      t.failed++;
      t.failures.push(`#${i} (${c[2]}): ${problems.join('; ')}`);
    }
  });
  report('tx_invalid.json', t);
  assert.deepEqual(t.failures, []);
  assert.equal(t.passed, 78);
});

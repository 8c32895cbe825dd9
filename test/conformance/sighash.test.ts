// Bitcoin Core's sighash.json: the legacy SignatureHash, including OP_CODESEPARATOR removal,
// odd hash types and the SIGHASH_SINGLE uint256(1) quirk.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readVectorJson } from '../vectors.js';
import { hexToBytes, reverseHex } from '../../src/primitives/bytes.js';
import { Tx } from '../../src/primitives/tx.js';
import { signatureHash } from '../../src/script/sighash.js';
import { newTally, report } from './harness.js';

test('sighash.json: all 500 legacy signature hashes', () => {
  const cases = readVectorJson<unknown[][]>('bitcoin-core', 'sighash.json');
  const t = newTally();
  for (const c of cases) {
    if (c.length === 1) continue;
    const [txHex, scriptHex, index, hashType, expected] = c as [string, string, number, number, string];
    const got = reverseHex(
      signatureHash(hexToBytes(scriptHex), Tx.decode(hexToBytes(txHex)), index, hashType),
    );
    if (got === expected) t.passed++;
    else {
      t.failed++;
      t.failures.push(`${txHex.slice(0, 16)}.. input ${index} type ${hashType}: ${got} != ${expected}`);
    }
  }
  report('sighash.json', t);
  assert.deepEqual(t.failures, []);
  assert.equal(t.passed, 500);
});

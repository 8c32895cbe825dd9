import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { prettyJsonText, resultText } from '../../src/cli/json-text.js';

test('prettyJsonText lays out any JSON as JSON.stringify(v, null, 2) does', () => {
  fc.assert(
    fc.property(fc.jsonValue(), (v) => {
      assert.equal(prettyJsonText(JSON.stringify(v)), JSON.stringify(v, null, 2));
    }),
    { numRuns: 300 },
  );
});

test('resultText cuts the result member out of a reply, whatever surrounds it', () => {
  fc.assert(
    fc.property(fc.jsonValue(), fc.jsonValue(), fc.boolean(), (result, id, v2) => {
      const reply = v2 ? { jsonrpc: '2.0', result, id } : { result, error: null, id };
      const raw = resultText(JSON.stringify(reply));
      assert.notEqual(raw, undefined);
      assert.deepEqual(JSON.parse(raw!), JSON.parse(JSON.stringify(result)));
    }),
    { numRuns: 300 },
  );
  assert.equal(resultText('{"error":{"code":-1,"message":"result"},"id":1}'), undefined);
});

test('literals are copied verbatim: 8-decimal amounts and integers beyond 2^53', () => {
  const body =
    '{"result":{"trusted":10.00000000,"big":1152921504606846977,"s":"a, b: {c}"},"error":null,"id":1}';
  assert.equal(
    prettyJsonText(resultText(body)!),
    '{\n  "trusted": 10.00000000,\n  "big": 1152921504606846977,\n  "s": "a, b: {c}"\n}',
  );
  assert.equal(resultText('{"id":1,"result":0.00000001}'), '0.00000001');
});

// BIP380 descriptor checksums and Core's inferred descriptors for scriptPubKey.desc: the BIP's
// vector, a checksum that catches every single-character change, and the output kinds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { getParams } from '../../src/consensus/params.js';
import { hexToBytes } from '../../src/primitives/bytes.js';
import { descriptorChecksum, inferDescriptor } from '../../src/rpc/descriptor.js';

const prefixes = getParams('regtest').prefixes;

test('BIP380: raw(deadbeef) has checksum 89f8spxm', () => {
  assert.equal(descriptorChecksum('raw(deadbeef)'), '89f8spxm');
  assert.throws(() => descriptorChecksum('raw(é)'), /no checksum symbol/);
});

test('a single changed character changes the checksum (BCH code distance)', () => {
  const chars = '0123456789abcdef()';
  fc.assert(
    fc.property(
      fc.string({ unit: fc.constantFrom(...chars), minLength: 1, maxLength: 60 }),
      fc.nat(),
      fc.constantFrom(...chars),
      (s, at, ch) => {
        const i = at % s.length;
        fc.pre(s[i] !== ch);
        const t = s.slice(0, i) + ch + s.slice(i + 1);
        assert.notEqual(descriptorChecksum(s), descriptorChecksum(t));
      },
    ),
    { numRuns: 300 },
  );
});

test('inferred descriptors: addr() for P2PKH/P2SH, pk(), multi(), raw() otherwise', () => {
  const key = '02' + '11'.repeat(32);
  const p2pkh = hexToBytes('76a914' + '22'.repeat(20) + '88ac');
  assert.match(inferDescriptor(p2pkh, prefixes), /^addr\([1-9A-HJ-NP-Za-km-z]+\)#[02-9ac-hj-np-z]{8}$/);
  assert.match(inferDescriptor(hexToBytes('a914' + '33'.repeat(20) + '87'), prefixes), /^addr\(/);
  assert.equal(inferDescriptor(hexToBytes('21' + key + 'ac'), prefixes).split('#')[0], `pk(${key})`);
  const multi = hexToBytes('51' + '21' + key + '51ae');
  assert.equal(inferDescriptor(multi, prefixes).split('#')[0], `multi(1,${key})`);
  assert.equal(
    inferDescriptor(hexToBytes('6a0401020304'), prefixes),
    `raw(6a0401020304)#${descriptorChecksum('raw(6a0401020304)')}`,
  );
});

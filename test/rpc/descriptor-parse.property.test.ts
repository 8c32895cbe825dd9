// parseDescriptor as a decoder of what a caller sends scantxoutset: any text gives scripts or a
// DescriptorError (never another exception); descriptors built from random keys give the scripts
// they stand for, in hex or WIF, with or without their BIP380 checksum; one changed checksum
// character is refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { hash160 } from '../../src/crypto/hash.js';
import { publicKeyFromPrivate } from '../../src/crypto/secp256k1.js';
import { getParams } from '../../src/consensus/params.js';
import { encodeWif, scriptToAddress } from '../../src/primitives/address.js';
import { bytesToHex } from '../../src/primitives/bytes.js';
import { p2pkhScript, p2pkScript } from '../../src/script/standard.js';
import { DescriptorError, descriptorChecksum } from '../../src/rpc/descriptor.js';
import { parseDescriptor } from '../../src/rpc/descriptor-parse.js';

const prefixes = getParams('regtest').prefixes;
const key = fc
  .uint8Array({ minLength: 32, maxLength: 32 })
  .filter((k) => k.some((b) => b !== 0) && k[0] < 0xf0);

test('parseDescriptor: any text is scripts or one DescriptorError', () => {
  const funcs = fc.constantFrom(
    'pk(',
    'pkh(',
    'combo(',
    'addr(',
    'raw(',
    'wpkh(',
    'sh(',
    'multi(1,',
    'sortedmulti(2,',
    'pkh([deadbeef/1h]',
    'pk(tpubD6NzVbkrYhZ4WaWSyoBvQwbpLkojyoTZPRsgXELWz3Popb3qkjcJyJUGLnL4qHHoQvao8ESaAstxYSnhyswJ76uZPStJRJCTKvosUCJZL5B/',
    '',
    'x(',
  );
  fc.assert(
    fc.property(funcs, fc.string({ maxLength: 140 }), fc.boolean(), (f, body, close) => {
      const text = f + body + (close ? ')' : '');
      try {
        const r = parseDescriptor(text, prefixes);
        assert.ok(r.scripts.length > 0);
      } catch (e) {
        assert.ok(e instanceof DescriptorError, `${text}: ${String(e)}`);
      }
    }),
    { numRuns: 800 },
  );
});

test('parseDescriptor: built descriptors give their scripts; a changed checksum is refused', () => {
  fc.assert(
    fc.property(
      key,
      fc.boolean(),
      fc.constantFrom('pk', 'pkh', 'combo', 'addr', 'raw'),
      fc.boolean(),
      fc.boolean(),
      fc.nat(7),
      (sk, compressed, func, asWif, withSum, at) => {
        const pub = publicKeyFromPrivate(sk, compressed);
        const p2pk = p2pkScript(pub);
        const p2pkh = p2pkhScript(hash160(pub));
        const keyText = asWif ? encodeWif(sk, compressed, prefixes) : bytesToHex(pub);
        const [body, want] =
          func === 'addr'
            ? [`addr(${scriptToAddress(p2pkh, prefixes)!})`, [p2pkh]]
            : func === 'raw'
              ? [`raw(${bytesToHex(p2pk)})`, [p2pk]]
              : [`${func}(${keyText})`, func === 'pk' ? [p2pk] : func === 'pkh' ? [p2pkh] : [p2pk, p2pkh]];
        const sum = descriptorChecksum(body);
        const r = parseDescriptor(withSum ? `${body}#${sum}` : body, prefixes);
        assert.deepEqual(r.scripts, want);
        const bad = sum.slice(0, at) + (sum[at] === 'q' ? 'p' : 'q') + sum.slice(at + 1);
        assert.throws(() => parseDescriptor(`${body}#${bad}`, prefixes), DescriptorError);
      },
    ),
    { numRuns: 100 },
  );
});

// The dumpwallet reader (wallet/dump.ts): labels survive Core's %XX encoding whatever they hold,
// and any text, a dump cut anywhere included, gives keys or one DumpError, never a crash.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { encodeWif } from '../../src/primitives/address.js';
import { DumpError, decodeDumpString, encodeDumpString, parseDump } from '../../src/wallet/dump.js';

const PREFIXES = { pubkeyHash: 111, scriptHash: 196, wif: 239 };

test('property: a label survives encodeDumpString/decodeDumpString and has no blank or #', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'grapheme' }), (label) => {
      const enc = encodeDumpString(label);
      assert.ok(!/[\s%]/.test(enc.replace(/%[0-9a-f]{2}/g, '')));
      assert.equal(decodeDumpString(enc), label);
    }),
  );
});

test('property: any text, or a dump cut anywhere, gives keys or a DumpError', () => {
  const wif = encodeWif(new Uint8Array(32).fill(9), true, PREFIXES);
  const dump = `# header\n\n${wif} 2024-01-02T03:04:05Z label=a%20b # addr=x\n5121 1970-01-01T00:00:00Z script=1 # addr=y\n# End of dump\n`;
  const parsed = parseDump(dump, PREFIXES);
  assert.equal(parsed.keys[0].label, 'a b');
  assert.equal(parsed.keys[0].time, Date.UTC(2024, 0, 2, 3, 4, 5) / 1000);
  assert.equal(parsed.redeemScripts.length, 1);
  fc.assert(
    fc.property(
      fc.oneof(
        fc.string(),
        fc.nat(dump.length).map((n) => dump.slice(0, n)),
      ),
      (text) => {
        try {
          const d = parseDump(text, PREFIXES);
          assert.ok(d.keys.length + d.redeemScripts.length + d.pubkeys.length + d.watched.length > 0);
        } catch (e) {
          assert.ok(e instanceof DumpError, String(e));
        }
      },
    ),
  );
});

// rpcallowip entries as an operator types them: any text gives an allow-list or an Error naming
// the entry, never an exception from node:net's BlockList; a parsed subnet admits its own address.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isIP } from 'node:net';
import fc from 'fast-check';
import { parseAllowList } from '../../src/rpc/server.js';

test('rpcallowip: any entry is an allow-list or an Error naming it; a subnet contains its address', () => {
  const entry = fc.oneof(
    fc
      .tuple(
        fc.oneof(fc.ipV4(), fc.ipV6()),
        fc.option(
          fc.oneof(fc.integer({ min: -1, max: 200 }).map(String), fc.ipV4(), fc.string({ maxLength: 4 })),
        ),
      )
      .map(([a, m]) => (m === null ? a : `${a}/${m}`)),
    fc.string({ unit: fc.constantFrom('1', '2', '.', ':', '/', 'f', '%', '0'), maxLength: 16 }),
    fc.string({ maxLength: 20 }),
  );
  fc.assert(
    fc.property(entry, (e) => {
      let list;
      try {
        list = parseAllowList([e]);
      } catch (err) {
        assert.ok(
          err instanceof Error && err.message.startsWith(`invalid rpcallowip entry "${e}"`),
          String(err),
        );
        return;
      }
      const addr = e.split('/')[0];
      const family = isIP(addr);
      assert.ok(family !== 0);
      assert.equal(list.check(addr, family === 4 ? 'ipv4' : 'ipv6'), true);
    }),
    { numRuns: 400 },
  );
});

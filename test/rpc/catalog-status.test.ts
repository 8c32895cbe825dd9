// docs/rpc.md's method-status table against the method table: every method the catalog knows
// (Core v29's list) has one row with the status and note catalog-status.ts gives it, so the
// document cannot drift; `node dist/scripts/rpc-doc.js` rewrites it after a change.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { CATEGORY, TALLY_ONLY } from '../../src/rpc/catalog.js';
import {
  parseTableRows,
  statusRows,
  statusSummary,
  TABLE_END,
  TABLE_START,
  unknownStatusNames,
} from '../../src/rpc/catalog-status.js';

const doc = readFileSync('docs/rpc.md', 'utf8');
const section = doc.slice(doc.indexOf(TABLE_START), doc.indexOf(TABLE_END));

test('docs/rpc.md lists every Core method the catalog knows, with its status', () => {
  assert.ok(section.length > TABLE_START.length, 'docs/rpc.md has the method-status markers');
  const rows = parseTableRows(section);
  const listed = rows.map((r) => r[1].replace(/`/g, ''));
  const core = [...CATEGORY.keys()].filter((n) => !TALLY_ONLY.has(n));
  assert.deepEqual(
    core.filter((n) => !listed.includes(n)),
    [],
    'methods missing from docs/rpc.md: run node dist/scripts/rpc-doc.js',
  );
  assert.deepEqual(
    rows,
    statusRows(),
    'docs/rpc.md lags catalog-status.ts: run node dist/scripts/rpc-doc.js',
  );
  assert.ok(section.includes(statusSummary()));
  assert.ok(
    rows.every((r) => r[2] === 'same' || r[3].length > 0),
    'every exception says how or why',
  );
});

test('the status exceptions name only methods the catalog knows', () => {
  assert.deepEqual(unknownStatusNames(), []);
});

test('a table cell may hold an escaped pipe', () => {
  assert.deepEqual(parseTableRows('| a | b |\n| --- | --- |\n| x \\| y | z |'), [['x | y', 'z']]);
});

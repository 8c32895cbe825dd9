// Rewrites docs/rpc.md's method-status table from the method table (src/rpc/catalog-status.ts)
// and formats the file with the project's prettier settings, so `npm run lint` agrees with it.
// Run after changing a method's status: `npm run build && node dist/scripts/rpc-doc.js`.
import { readFileSync, writeFileSync } from 'node:fs';
import * as prettier from 'prettier';
import { statusTable, TABLE_END, TABLE_START } from '../src/rpc/catalog-status.js';

const path = 'docs/rpc.md';
const doc = readFileSync(path, 'utf8');
const start = doc.indexOf(TABLE_START);
const end = doc.indexOf(TABLE_END);
if (start < 0 || end < start) throw new Error(`${path} lacks the ${TABLE_START} … ${TABLE_END} markers`);
const next = doc.slice(0, start + TABLE_START.length) + '\n\n' + statusTable() + '\n\n' + doc.slice(end);
const options = (await prettier.resolveConfig(path)) ?? {};
writeFileSync(path, await prettier.format(next, { ...options, filepath: path }));
console.log(`${path}: method-status table rewritten`);

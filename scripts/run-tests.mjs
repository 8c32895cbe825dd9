// Runs every compiled test file under dist/test with node's built-in runner.
// Node 20 has no glob support in `node --test`, so the file list is gathered here.
// `--soak` runs the long soaks instead (files named *.soak.ts, compiled to *.soak.js), which
// `npm test` leaves out: `npm run soak [-- substring…]`.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const root = 'dist/test';
// A test that hangs (a lost event, a peer that never answers) fails after 10 minutes instead of
// holding the run forever; the slowest test takes about 2 minutes on a loaded 2-core machine.
const TEST_TIMEOUT_MS = 600_000;
const soak = process.argv.includes('--soak');
const only = process.argv.slice(2).filter((a) => a !== '--soak');
const suffix = soak ? '.soak.js' : '.test.js';
function walk(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else if (name.endsWith(suffix)) out.push(p);
  }
  return out;
}
let files = walk(root);
if (only.length > 0) files = files.filter((f) => only.some((o) => f.includes(o)));
if (files.length === 0) {
  console.error('no test files found under ' + root);
  process.exit(1);
}
const res = spawnSync(
  process.execPath,
  ['--test', '--test-concurrency=2', `--test-timeout=${TEST_TIMEOUT_MS}`, ...files],
  { stdio: 'inherit' },
);
process.exit(res.status ?? 1);

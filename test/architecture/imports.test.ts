// DESIGN.md §2: imports run one way, crypto <- primitives <- script <- consensus <- chain <-
// {mempool, mining} <- node <- cli; storage implements chain/ports.ts; p2p, rpc and wallet reach
// the chain through narrow interfaces; mining/worker.ts imports nothing but the hasher; and the pure
// layers (primitives, script, consensus) touch no I/O, clock or randomness.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync, existsSync } from 'node:fs';
import { join, dirname, relative, resolve } from 'node:path';

const SRC = resolve('src');

// Which src/ folders each folder may import from (itself is always allowed).
const ALLOWED: Record<string, string[]> = {
  crypto: [],
  primitives: ['crypto'],
  script: ['crypto', 'primitives'],
  consensus: ['crypto', 'primitives', 'script'],
  chain: ['crypto', 'primitives', 'script', 'consensus'],
  storage: ['crypto', 'primitives', 'script', 'consensus', 'chain'],
  mempool: ['crypto', 'primitives', 'script', 'consensus', 'chain'],
  mining: ['crypto', 'primitives', 'script', 'consensus', 'chain', 'mempool'],
  p2p: ['crypto', 'primitives', 'script', 'consensus', 'chain'],
  wallet: ['crypto', 'primitives', 'script', 'consensus', 'chain'],
  rpc: ['crypto', 'primitives', 'script', 'consensus', 'chain', 'mempool', 'mining', 'wallet', 'p2p'],
  stratum: ['crypto', 'primitives', 'script', 'consensus', 'mining'],
  index: ['crypto', 'primitives', 'script', 'consensus', 'chain'],
  notify: ['crypto', 'primitives'],
  node: [
    'crypto',
    'primitives',
    'script',
    'consensus',
    'chain',
    'storage',
    'mempool',
    'mining',
    'p2p',
    'wallet',
    'rpc',
    'stratum',
    'index',
    'notify',
  ],
  cli: [
    'crypto',
    'primitives',
    'script',
    'consensus',
    'chain',
    'storage',
    'mempool',
    'mining',
    'p2p',
    'wallet',
    'rpc',
    'stratum',
    'index',
    'notify',
    'node',
  ],
};
const PURE = new Set(['primitives', 'script', 'consensus']);
const IMPURE_MODULES =
  /^(node:)?(fs|fs\/promises|net|http|https|child_process|worker_threads|dgram|os|crypto|timers)$/;
const IMPURE_CALLS =
  /\b(Date\.now|new Date\(|Math\.random|performance\.now|process\.hrtime|getRandomValues|randomBytes)\b/;

function walk(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else if (p.endsWith('.ts')) out.push(p);
  }
  return out;
}

function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  const re = /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;
  for (const m of text.matchAll(re)) out.push(m[1] ?? m[2]);
  return out;
}

const files = walk(SRC);

test('src/ exists and has the layout of DESIGN.md', () => {
  assert.ok(files.length > 0);
  for (const f of files) {
    const top = relative(SRC, f).split('/')[0];
    assert.ok(top in ALLOWED, `${relative(SRC, f)} is outside the folders DESIGN.md names`);
  }
});

test('imports run one way between src/ folders', () => {
  const bad: string[] = [];
  for (const f of files) {
    const from = relative(SRC, f).split('/')[0];
    for (const spec of imports(f)) {
      if (!spec.startsWith('.')) continue;
      const target = relative(SRC, resolve(dirname(f), spec));
      const to = target.split('/')[0];
      if (to.startsWith('..') || to === from) continue;
      if (!ALLOWED[from].includes(to)) bad.push(`${relative(SRC, f)} imports ${target}`);
    }
  }
  assert.deepEqual(bad, []);
});

test('primitives, script and consensus do no I/O and read no clock or randomness', () => {
  const bad: string[] = [];
  for (const f of files) {
    const from = relative(SRC, f).split('/')[0];
    if (!PURE.has(from)) continue;
    for (const spec of imports(f))
      if (IMPURE_MODULES.test(spec)) bad.push(`${relative(SRC, f)} imports ${spec}`);
    const text = readFileSync(f, 'utf8').replace(/\/\/.*$/gm, '');
    const m = IMPURE_CALLS.exec(text);
    if (m) bad.push(`${relative(SRC, f)} calls ${m[1]}`);
  }
  assert.deepEqual(bad, []);
});

test('mining/worker.ts imports nothing but the hasher', () => {
  const worker = join(SRC, 'mining', 'worker.ts');
  if (!existsSync(worker)) return;
  for (const spec of imports(worker)) {
    assert.ok(
      /hasher|sha256|kernel/i.test(spec) || spec.startsWith('node:worker_threads'),
      `worker.ts imports ${spec}`,
    );
  }
});

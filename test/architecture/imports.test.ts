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
  explorer: ['crypto', 'primitives'],
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
    'explorer',
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
    'explorer',
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
      // The one atomic file write (issue 13) serves every folder that keeps a file; pure ones keep none.
      if (target === 'storage/atomic-file.js' && !PURE.has(from)) continue;
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

// DESIGN.md §2 and issue 13: p2p, rpc, wallet, index, notify, explorer and stratum reach the chain,
// the mempool and each other through narrow interfaces (ports), never the concrete classes of
// another part, and so does mining/ (mining/ports.ts); error classes and plain records may cross. Wallet objects are wallet/'s own API
// for rpc's wallet methods (issue 15 reshapes them).
const PART_FOLDERS = new Set(['chain', 'storage', 'mempool', 'mining', 'p2p', 'wallet']);
const PORT_CONSUMERS = new Set(['p2p', 'rpc', 'wallet', 'mining', 'index', 'notify', 'explorer', 'stratum']);
const CLASS_ALLOWED = new Set(['Wallet']);

function importedNames(file: string): { names: string[]; spec: string }[] {
  const text = readFileSync(file, 'utf8');
  const out: { names: string[]; spec: string }[] = [];
  const re = /(?:^|\n)\s*import\s+(?:type\s+)?\{([^}]*)\}\s*from\s+['"]([^'"]+)['"]/g;
  for (const m of text.matchAll(re)) {
    const names = m[1]
      .split(',')
      .map(
        (n) =>
          n
            .trim()
            .replace(/^type\s+/, '')
            .split(/\s+as\s+/)[0],
      )
      .filter((n) => n.length > 0);
    out.push({ names, spec: m[2] });
  }
  return out;
}

function exportedPartClasses(file: string): Set<string> {
  const text = readFileSync(file, 'utf8');
  const out = new Set<string>();
  for (const m of text.matchAll(/export\s+(?:abstract\s+)?class\s+(\w+)(\s+extends\s+(\w+))?/g))
    if (!/Error$/.test(m[3] ?? '') && !/Error$/.test(m[1])) out.add(m[1]);
  return out;
}

test('p2p, rpc, wallet, mining, index, notify, explorer and stratum name no class of another part (they use ports)', () => {
  const bad: string[] = [];
  for (const f of files) {
    const top = relative(SRC, f).split('/')[0];
    if (!PORT_CONSUMERS.has(top)) continue;
    for (const { names, spec } of importedNames(f)) {
      if (!spec.startsWith('.')) continue;
      const target = resolve(dirname(f), spec).replace(/\.js$/, '.ts');
      const targetTop = relative(SRC, target).split('/')[0];
      if (targetTop === top || !PART_FOLDERS.has(targetTop) || !existsSync(target)) continue;
      const classes = exportedPartClasses(target);
      for (const n of names)
        if (classes.has(n) && !CLASS_ALLOWED.has(n)) bad.push(`${relative(SRC, f)} imports class ${n}`);
    }
  }
  assert.deepEqual(bad, []);
});

test('only node/ subscribes parts to the chain and pool events', () => {
  const bad: string[] = [];
  for (const f of files) {
    const top = relative(SRC, f).split('/')[0];
    if (top === 'node') continue;
    const text = readFileSync(f, 'utf8');
    const m = /\b(chain|mempool)\.(on|off|once|addListener)\(/.exec(text);
    if (m) bad.push(`${relative(SRC, f)} calls ${m[0]}`);
  }
  assert.deepEqual(bad, []);
});

// DESIGN.md §3: each folder opens with a short header (what it owns, what it does not, how it fails).
test('every src/ folder opens with a README.md header saying what it owns, does not own and how it fails', () => {
  const bad: string[] = [];
  for (const d of readdirSync(SRC)) {
    if (!statSync(join(SRC, d)).isDirectory()) continue;
    const p = join(SRC, d, 'README.md');
    if (!existsSync(p)) {
      bad.push(`src/${d} has no README.md`);
      continue;
    }
    const text = readFileSync(p, 'utf8');
    for (const part of ['Owns:', 'Does not own:', 'How it fails:'])
      if (!text.includes(part)) bad.push(`src/${d}/README.md lacks "${part}"`);
  }
  assert.deepEqual(bad, []);
});

// Issue 13: the kernel generator must not import (even indirectly) the file it writes, or a broken
// generated file could not be regenerated.
test('scripts/gen-sha256-kernel.ts does not import its own output', () => {
  const output = join(SRC, 'mining', 'sha256-kernel-js-unrolled.ts');
  const seen = new Set<string>();
  const stack = [resolve('scripts', 'gen-sha256-kernel.ts')];
  while (stack.length > 0) {
    const f = stack.pop()!;
    if (seen.has(f) || !existsSync(f)) continue;
    seen.add(f);
    for (const spec of imports(f))
      if (spec.startsWith('.')) stack.push(resolve(dirname(f), spec).replace(/\.js$/, '.ts'));
  }
  assert.ok(seen.size > 1, 'the generator imports the kernel graph');
  assert.ok(!seen.has(output), 'the generator reaches sha256-kernel-js-unrolled.ts');
});

test('storage/atomic-file.ts imports nothing from src/ (every folder that keeps a file may import it)', () => {
  const own = imports(join(SRC, 'storage', 'atomic-file.ts')).filter((s) => s.startsWith('.'));
  assert.deepEqual(own, []);
});

// Issue 13: one logger type and one atomic file write; a second copy of either is refused here.
test('only primitives/logger.ts declares a logger type, and only storage/atomic-file.ts renames files', () => {
  const bad: string[] = [];
  for (const f of files) {
    const rel = relative(SRC, f);
    const text = readFileSync(f, 'utf8').replace(/^\s*\/\/.*$/gm, '');
    const logger = /^\s*(?:export\s+)?(?:interface|type)\s+(\w*Logger)\b/m.exec(text);
    if (logger && rel !== join('primitives', 'logger.ts')) bad.push(`${rel} declares ${logger[1]}`);
    const rename = /\brename(?:Sync)?\(/.exec(text);
    if (rename && rel !== join('storage', 'atomic-file.ts')) bad.push(`${rel} calls ${rename[0]}`);
  }
  assert.deepEqual(bad, []);
});

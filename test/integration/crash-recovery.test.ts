// Crash safety: a child process connecting blocks (with a tiny coins cache, so flushes are
// frequent and split into several batches, and a deep reorg in the sequence) is SIGKILLed again
// and again: at random moments, at random store writes, inside multi-batch flushes, during the
// reorg, and as a power cut (block and undo files cut back to their last fsync, the index's later
// entries kept: block files are fsynced at flushes only, as Core's). Each restart resumes; the final UTXO digest must equal that of a node that never crashed.
// Then a real node with a wallet is killed during sends, receipts and reorgs (wallet-crash.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getParams } from '../../src/consensus/params.js';
import type { Block } from '../../src/primitives/block.js';
import type { Tx } from '../../src/primitives/tx.js';
import { Builder, type Spendable } from '../chain/builder.js';
import { openChain, removeDir, tempDir } from '../chain/helpers.js';
import { startNode, stopAll } from './cluster.js';
import { walletCrashHarness } from './wallet-crash.js';

const CHILD = join(dirname(fileURLToPath(import.meta.url)), 'crash-child.js');
const params = getParams('regtest');

/** 150 blocks with spends fanning out, then a 12-block branch replaced by a heavier 14-block one. */
function buildSequence(): Block[] {
  const b = new Builder(params);
  const main = b.chain(b.genesis, 105);
  let pool: Spendable[] = [];
  let tip = main[104];
  const add = (txs: Tx[], fees = 0n, tag?: number): Block => {
    tip = b.block(tip, { txs, fees, tag });
    main.push(tip);
    return tip;
  };
  for (let i = 0; i < 25; i++) {
    const txs: Tx[] = [];
    const fan = b.spend([b.cbOut(main[i])], {
      outputs: Array.from({ length: 6 }, () => 8_0000000n),
      fee: 0n,
    });
    txs.push(fan);
    const next: Spendable[] = [];
    for (const s of pool.splice(0, 4)) {
      const t = b.spend([s], { outputs: [s.value / 2n, s.value / 2n] });
      txs.push(t);
      next.push(b.out(t, 0), b.out(t, 1));
    }
    pool.push(...next, ...fan.outputs.map((_, k) => b.out(fan, k)));
    add(txs, 50_00000000n - 48_0000000n);
  }
  const forkPoint = tip;
  const saved = pool.slice();
  const branchA: Block[] = [];
  for (let i = 0; i < 12; i++) {
    const s = pool.shift()!;
    tip = b.block(tip, { txs: [b.spend([s], { outputs: [s.value] })], tag: 1000 + i });
    branchA.push(tip);
  }
  pool = saved;
  tip = forkPoint;
  const branchB: Block[] = [];
  for (let i = 0; i < 14; i++) {
    const s = pool.pop()!;
    const t = b.spend([s], { outputs: [s.value / 3n, s.value - s.value / 3n] });
    tip = b.block(tip, { txs: [t], tag: 2000 + i });
    branchB.push(tip);
  }
  return [...main, ...branchA, ...branchB];
}

function frame(blocks: Block[]): Uint8Array {
  const parts: Buffer[] = [];
  for (const blk of blocks) {
    const raw = blk.encode();
    const h = Buffer.alloc(8);
    h.writeUInt32LE(0xdab5bffa, 0);
    h.writeUInt32LE(raw.length, 4);
    parts.push(h, Buffer.from(raw));
  }
  return new Uint8Array(Buffer.concat(parts));
}

interface RunResult {
  signal: NodeJS.Signals | null;
  code: number | null;
  lines: Record<string, unknown>[];
  stderr: string;
}

function runChild(
  dir: string,
  file: string,
  env: Record<string, string>,
  killAfterMs?: number,
): Promise<RunResult> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [CHILD, dir, file], { env: { ...process.env, ...env } });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    const timer = killAfterMs === undefined ? undefined : setTimeout(() => p.kill('SIGKILL'), killAfterMs);
    p.on('close', (code, signal) => {
      clearTimeout(timer);
      const lines = out
        .split('\n')
        .filter((l) => l.trim())
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      resolve({ code, signal, lines, stderr: err });
    });
  });
}

test(
  'SIGKILL at random moments, in flushes and in a reorg: every restart resumes to the same UTXO set',
  { timeout: 180_000 },
  async (t) => {
    const blocks = buildSequence();
    const work = tempDir();
    const file = join(work, 'blocks.dat');
    writeFileSync(file, frame(blocks));
    try {
      const refDir = join(work, 'ref');
      const ref = await openChain(refDir, params);
      for (const blk of blocks) assert.ok((await ref.processBlock(blk)).accepted);
      const want = await ref.utxoDigest();
      await ref.close();
      assert.equal(want.height, 144);

      const kinds: Record<string, number> = {};
      let kills = 0;
      let seed = 12345;
      const rand = (n: number): number => {
        seed = (seed * 1103515245 + 12345) % 2 ** 31;
        return seed % n;
      };
      // Each cycle starts from an empty directory: a few kills at random moments (while catching
      // up), at random writes, inside multi-batch flushes and during the reorg near the end, then a
      // run to completion whose digest must match.
      const cycle = (): { env: Record<string, string>; ms?: number }[] => [
        { env: {}, ms: 150 + rand(200) },
        { env: { CRASH_MODE: 'power', CRASH_N: String(2 + rand(10)), CRASH_WHEN: 'after' } },
        { env: { CRASH_MODE: 'power', CRASH_N: String(2 + rand(10)), CRASH_WHEN: 'before' } },
        { env: { CRASH_MODE: 'flush', CRASH_N: '1', CRASH_WHEN: 'before' } },
        { env: { CRASH_MODE: 'any', CRASH_N: String(3 + rand(20)), CRASH_WHEN: 'after' } },
        { env: { CRASH_MODE: 'reorg', CRASH_N: '1', CRASH_WHEN: 'before' } },
        { env: { CRASH_MODE: 'reorg', CRASH_N: '2', CRASH_WHEN: 'after' } },
        { env: { CRASH_MODE: 'reorg', CRASH_N: '4', CRASH_WHEN: 'before' } },
        { env: { CRASH_MODE: 'flush', CRASH_N: '1', CRASH_WHEN: 'after' } },
        { env: {}, ms: 150 + rand(300) },
      ];
      let cycles = 0;
      while ((kills < 32 || cycles < 4) && cycles < 10) {
        const dir = join(work, 'node' + cycles++);
        for (const step of cycle()) {
          const r = await runChild(dir, file, step.env, step.ms);
          if (r.signal === 'SIGKILL') {
            kills++;
            const k = r.lines.find((l) => 'killed' in l);
            const kind = k ? String(k.killed) : 'timer';
            kinds[kind] = (kinds[kind] ?? 0) + 1;
          } else {
            assert.equal(r.code, 0, r.stderr);
          }
        }
        const last = await runChild(dir, file, {});
        assert.equal(last.code, 0, last.stderr);
        const done = last.lines.find((l) => l.done)!;
        assert.deepEqual([done.height, done.hash, done.count], [want.height, want.hash, want.count]);
        removeDir(dir);
      }
      t.diagnostic(`${kills} kills in ${cycles} cycles: ${JSON.stringify(kinds)}`);
      assert.ok(kills >= 30, `only ${kills} kills (${JSON.stringify(kinds)})`);
      assert.ok((kinds.flush ?? 0) >= 3, JSON.stringify(kinds));
      assert.ok((kinds.reorg ?? 0) >= 3, JSON.stringify(kinds));
      assert.ok((kinds.power ?? 0) >= 6, JSON.stringify(kinds));
    } finally {
      removeDir(work);
    }
  },
);

test(
  'SIGKILL during wallet sends, receipts and reorgs: after each restart the wallet equals its coins',
  { timeout: 300_000 },
  async (t) => {
    const n = await startNode();
    try {
      await n.rpc('createwallet', ['w']);
      await n.rpc('generatetoaddress', [120, await n.rpc<string>('getnewaddress')]);
      const seed = Date.now() % 100_000;
      const stats = await walletCrashHarness(n, 3, seed);
      t.diagnostic(`seed ${seed}: ${JSON.stringify(stats)}`);
      assert.equal(stats.kills, 3);
    } finally {
      await stopAll();
    }
  },
);

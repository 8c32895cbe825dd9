// `npm run bench -- hash [--seconds S] [--threads N] [--kernel NAME] [--cpuminer PATH]`: the
// miner's hash rate per kernel (every native path the processor has, wasm-simd, js) on 1 thread,
// on 2, 4, 8 … and on N (default: every core) through the worker pool, the scaling efficiency,
// and, measured in the same run on the main thread, reference double-SHA-256 rates of an 80-byte
// header with node:crypto (OpenSSL), @noble/hashes and src/crypto/hash.ts sha256d. With
// --cpuminer, pooler/cpuminer's `minerd --benchmark -a sha256d` is measured at the same thread
// counts in the same run (build it by hand outside the repository; see docs/mining.md).
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { sha256d } from '../../src/crypto/hash.js';
import { KERNELS, nativeStatus, type KernelName } from '../../src/mining/hasher.js';
import { Miner } from '../../src/mining/miner.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

const header = Uint8Array.from({ length: 80 }, (_, i) => (i * 73 + 5) & 0xff);

/**
 * Hashes per wall-clock second of the pool over `seconds`, after the threads are up and warmed,
 * and hashes per CPU-second the process got meanwhile (its main thread sleeps): on a machine shared
 * with other work the second is the per-core speed, the first what the pool obtained.
 */
async function poolRate(kernel: KernelName, threads: number, seconds: number): Promise<[number, number]> {
  const miner = Miner.create({ threads, kernel });
  try {
    await miner.ready();
    // Target 0: never met, so the threads hash until aborted.
    const search = miner.search({ header, target: 0n });
    await sleep(500); // lets V8 tier the kernel up
    const h0 = miner.hashes;
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    await sleep(seconds * 1000);
    const cpu = process.cpuUsage(cpu0);
    const hashes = miner.hashes - h0;
    const rate = (hashes * 1000) / (performance.now() - t0);
    miner.abort();
    await search;
    return [rate, (hashes * 1e6) / (cpu.user + cpu.system)];
  } finally {
    await miner.close();
  }
}

function mainThreadRate(hashOnce: (h: Uint8Array) => void, seconds: number): number {
  const h = header.slice();
  const view = new DataView(h.buffer);
  let n = 0;
  const t0 = performance.now();
  let t = t0;
  while (t - t0 < seconds * 1000) {
    for (let i = 0; i < 1000; i++) {
      view.setUint32(76, n++, true);
      hashOnce(h);
    }
    t = performance.now();
  }
  return (n * 1000) / (t - t0);
}

const mhs = (r: number): string => (r / 1e6).toFixed(2).padStart(7) + ' MH/s';

/** CPU seconds a process has used so far (Linux /proc; 0 where it cannot be read). */
function cpuSecondsOf(pid: number): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(f[11]) + Number(f[12])) / 100; // utime + stime, in USER_HZ (100)
  } catch {
    return 0;
  }
}

/**
 * cpuminer's own figure (its last "Total: N khash/s" line) and hashes per CPU-second: the hashes
 * its threads reported, over the CPU time it had used when the last of those reports came.
 */
async function cpuminerRate(path: string, threads: number, seconds: number): Promise<[number, number]> {
  const child = spawn(path, ['--benchmark', '-a', 'sha256d', '-t', String(threads)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  let hashes = 0;
  let cpuAtReport = 0;
  const onData = (d: Buffer): void => {
    const s = d.toString();
    text += s;
    for (const m of s.matchAll(/thread \d+: (\d+) hashes/g)) hashes += Number(m[1]);
    if (/thread \d+: \d+ hashes/.test(s)) cpuAtReport = cpuSecondsOf(child.pid ?? 0);
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const failed = new Promise<never>((_, reject) => child.once('error', reject));
  // cpuminer reports every few seconds: the first report comes before it has settled.
  await Promise.race([sleep((seconds + 6) * 1000), failed]);
  child.kill('SIGINT');
  const totals = [...text.matchAll(/Total: ([\d.]+) khash\/s/g)];
  if (totals.length === 0) throw new Error(`cpuminer printed no rate:\n${text.slice(-500)}`);
  const rate = Number(totals[totals.length - 1][1]) * 1000;
  return [rate, cpuAtReport > 0 ? hashes / cpuAtReport : 0];
}

/** 1, 2, 4, 8 … below `all`, then `all`. */
function threadCounts(all: number): number[] {
  const out: number[] = [];
  for (let n = 1; n < all; n *= 2) out.push(n);
  out.push(all);
  return out;
}

export async function run(args: string[]): Promise<void> {
  const seconds = Number(option(args, '--seconds') ?? 3);
  const threads = Number(option(args, '--threads') ?? availableParallelism());
  const only = option(args, '--kernel');
  const cpuminer = option(args, '--cpuminer');
  const kernels = only ? [only as KernelName] : KERNELS;
  const counts = threadCounts(threads);
  const why = nativeStatus();
  console.log(
    `hash bench: ${seconds} s per figure, threads ${counts.join(', ')}, node ${process.version}` +
      (why ? ` (native kernel unavailable: ${why})` : ''),
  );
  // Other work on the machine skews the wall-clock figures: say how busy it was.
  console.log(`load average before: ${loadavg()[0].toFixed(2)} on ${availableParallelism()} cores`);
  console.log('figures: MH/s of wall-clock time (MH/s per CPU-second the miner got)');
  console.log(
    'kernel          ' + counts.map((n) => `${n} thread${n > 1 ? 's' : ''}`.padEnd(28)).join('') + 'scaling',
  );
  const row = async (name: string, measure: (n: number) => Promise<[number, number]>): Promise<void> => {
    const cells: string[] = [];
    let one = 0;
    let all = 0;
    for (const n of counts) {
      const [wall, perCpu] = await measure(n);
      if (n === 1) one = wall;
      all = wall;
      cells.push(`${mhs(wall)} (${mhs(perCpu)})`.padEnd(28));
    }
    const eff = counts.length > 1 ? `${((100 * all) / (threads * one)).toFixed(0)}% of ${threads}x` : '';
    console.log(`${name.padEnd(16)}${cells.join('')}${eff}`);
  };
  for (const kernel of kernels) await row(kernel, (n) => poolRate(kernel, n, seconds));
  if (cpuminer) await row('cpuminer', (n) => cpuminerRate(cpuminer, n, seconds));
  console.log('reference (main thread, full sha256d of an 80-byte header per nonce):');
  const refs: [string, (h: Uint8Array) => void][] = [
    ['node:crypto', (h) => createHash('sha256').update(createHash('sha256').update(h).digest()).digest()],
    ['@noble/hashes', (h) => nobleSha256(nobleSha256(h))],
    ['crypto/hash.ts sha256d', (h) => sha256d(h)],
  ];
  for (const [name, fn] of refs)
    console.log(`${name.padEnd(24)} ${mhs(mainThreadRate(fn, Math.min(seconds, 2)))}`);
  console.log(`load average after: ${loadavg()[0].toFixed(2)}`);
}

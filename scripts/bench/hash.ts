// `npm run bench -- hash [--seconds S] [--threads N] [--kernel wasm-simd|js]`: the miner's hash
// rate per kernel on 1 thread and on N (default: every core) through the worker pool, the scaling
// efficiency, and, measured in the same run on the main thread, reference double-SHA-256 rates of
// an 80-byte header with node:crypto (OpenSSL), @noble/hashes and src/crypto/hash.ts sha256d.
import { createHash } from 'node:crypto';
import { availableParallelism, loadavg } from 'node:os';
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { sha256d } from '../../src/crypto/hash.js';
import { KERNELS, type KernelName } from '../../src/mining/hasher.js';
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

export async function run(args: string[]): Promise<void> {
  const seconds = Number(option(args, '--seconds') ?? 3);
  const threads = Number(option(args, '--threads') ?? availableParallelism());
  const only = option(args, '--kernel');
  const kernels = only ? [only as KernelName] : KERNELS;
  console.log(
    `hash bench: ${seconds} s per figure, ${threads} threads for the pool figure, node ${process.version}`,
  );
  // Other work on the machine skews the wall-clock figures: say how busy it was.
  console.log(`load average before: ${loadavg()[0].toFixed(2)} on ${availableParallelism()} cores`);
  console.log(
    'kernel       1 thread (per CPU-s)          ' + `${threads} threads (per CPU-s)`.padEnd(30) + 'scaling',
  );
  for (const kernel of kernels) {
    const [one, oneCpu] = await poolRate(kernel, 1, seconds);
    const [all, allCpu] = await poolRate(kernel, threads, seconds);
    const eff = ((100 * all) / (threads * one)).toFixed(0);
    console.log(
      `${kernel.padEnd(12)} ${mhs(one)} (${mhs(oneCpu)})    ${mhs(all)} (${mhs(allCpu)})    ${eff}% of ${threads}x`,
    );
  }
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

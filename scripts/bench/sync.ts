// `npm run bench -- sync [--blocks N] [--inputs K] [--threads T] [--dbcache MB] [--rounds R]
// [--repeat P]`:
// a fresh node with a real Chain (LevelDB in a temp dir) catching up the chain bench connect builds
// (110 set-up blocks, a fan-out block, then N blocks of K P2PKH inputs; default 2,000 x 100) from
// one peer over loopback WebSockets, beside the reference of connecting the same raw blocks
// locally without the network (bench connect's own code, same run), and the ratio. The serving
// peer runs in a worker thread (its own event loop and core, as a remote peer would be); both
// chains verify scripts with T worker threads (default 0: inline, one core each on a 2-core machine).
// Then: the time for a new block (K inputs) to cross a line of 5 nodes with real chains, the
// median of R blocks (default 7). --repeat P runs P (local, p2p) pairs and prints the median pair.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { Chain } from '../../src/chain/chain.js';
import { getParams } from '../../src/consensus/params.js';
import { ibdTracker, p2pChainAdapter } from '../../src/node/adapters.js';
import { P2PNode } from '../../src/p2p/node.js';
import { Block } from '../../src/primitives/block.js';
import { LevelChainStore } from '../../src/storage/level-store.js';
import { BENCH_NOW, arg, connectAll, loadOrBuild } from './connect.js';

const params = getParams('regtest');

interface SourceData {
  role: 'sync-source';
  dir: string;
  dbcacheMB: number;
}

async function openChain(dir: string, threads: number, dbcacheMB: number): Promise<Chain> {
  return Chain.open({
    store: await LevelChainStore.open(dir),
    params,
    verifyThreads: threads,
    dbcacheMB,
    now: BENCH_NOW,
  });
}

/** The serving peer (in a worker): opens the connected chain and serves it until told to stop. */
async function serveSource(data: SourceData): Promise<void> {
  const port = parentPort!;
  const chain = await openChain(data.dir, 0, data.dbcacheMB);
  const p2p = new P2PNode({
    params,
    chain: p2pChainAdapter(chain, () => false),
    port: 0,
    useSeeds: false,
    targetOutbound: 0,
  });
  await p2p.start();
  port.postMessage({ url: p2p.url, height: chain.height });
  port.once('message', () => {
    void (async () => {
      await p2p.stop();
      await chain.close();
      port.postMessage({ stopped: true });
    })();
  });
}

function nextMessage<T>(w: Worker): Promise<T> {
  return new Promise((resolve, reject) => {
    w.once('message', resolve);
    w.once('error', reject);
  });
}

/** Simulated wall clock of a chain's world: just after its last block, so its tip is fresh. */
const nowAt = (raw: Uint8Array): (() => number) => {
  const time = Block.decode(raw).header.time;
  return () => time + 600;
};

/** A fresh node (empty chain) catching up from the worker's peer; times until the tip is flushed. */
async function catchUp(
  sourceUrl: string,
  target: number,
  threads: number,
  dbcacheMB: number,
  now: () => number,
): Promise<{ secs: number; wireBytes: number; utxoHash: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'tally-bench-sync-'));
  try {
    const chain = await openChain(dir, threads, dbcacheMB);
    const reached = new Promise<void>((resolve) =>
      chain.on('tip', (e) => {
        if (e.height >= target) resolve();
      }),
    );
    const p2p = new P2PNode({
      params,
      chain: p2pChainAdapter(chain, ibdTracker(chain, { now })),
      listen: false,
      connect: [sourceUrl],
      useSeeds: false,
    });
    const t0 = performance.now();
    await p2p.start();
    await reached;
    await chain.flushState();
    const secs = (performance.now() - t0) / 1000;
    const wireBytes = p2p.netTotals().bytesRecv;
    await p2p.stop();
    const digest = await chain.utxoDigest();
    await chain.close();
    return { secs, wireBytes, utxoHash: digest.hash };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/**
 * Five nodes with real chains, each dialling the one before it. A block submitted to the first
 * must reach the last through four header announcements, getdata requests and validations.
 */
async function lineLatency(
  raws: Uint8Array[],
  preload: number,
  rounds: number,
  threads: number,
  dbcacheMB: number,
): Promise<{ totalMs: number[]; firstMs: number[] }> {
  const now = nowAt(raws[preload + rounds - 1]);
  const dirs: string[] = [];
  const chains: Chain[] = [];
  const nodes: P2PNode[] = [];
  try {
    for (let i = 0; i < 5; i++) {
      const dir = mkdtempSync(join(tmpdir(), 'tally-bench-line-'));
      dirs.push(dir);
      const chain = await openChain(dir, threads, dbcacheMB);
      chains.push(chain);
      for (const raw of raws.slice(0, preload)) {
        const r = await chain.processBlock(Block.decode(raw));
        if (!r.accepted) throw new Error(`preload: ${r.reason}`);
      }
      const p2p = new P2PNode({
        params,
        chain: p2pChainAdapter(chain, ibdTracker(chain, { now })),
        port: 0,
        useSeeds: false,
        targetOutbound: 0,
        connect: i > 0 ? [nodes[i - 1].url] : undefined,
      });
      await p2p.start();
      nodes.push(p2p);
    }
    const linked = (): boolean =>
      nodes.slice(1).every((n) => n.peerInfo().some((p) => p.ready && !p.inbound));
    while (!linked()) await new Promise((r) => setTimeout(r, 20));
    const totalMs: number[] = [];
    const firstMs: number[] = [];
    for (let r = 0; r < rounds; r++) {
      const height = preload + r + 1;
      const arrived = chains.map(
        (c) =>
          new Promise<number>((resolve) => {
            const on = (e: { height: number }): void => {
              if (e.height < height) return;
              c.off('tip', on);
              resolve(performance.now());
            };
            c.on('tip', on);
          }),
      );
      const block = Block.decode(raws[preload + r]);
      const t0 = performance.now();
      const res = await chains[0].processBlock(block);
      if (!res.accepted) throw new Error(`line block: ${res.reason}`);
      const times = await Promise.all(arrived);
      totalMs.push(times[4] - t0);
      firstMs.push(times[0] - t0);
    }
    return { totalMs, firstMs };
  } finally {
    for (const n of nodes) await n.stop();
    for (const c of chains) await c.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
}

export async function run(args: string[]): Promise<void> {
  const nBlocks = Number(arg(args, 'blocks', '2000'));
  const inputs = Number(arg(args, 'inputs', '100'));
  const threads = Number(arg(args, 'threads', '0'));
  const dbcache = Number(arg(args, 'dbcache', '50'));
  const rounds = Number(arg(args, 'rounds', '7'));
  const repeat = Math.max(1, Number(arg(args, 'repeat', '1')));
  if (rounds > nBlocks) throw new Error('--rounds must not exceed --blocks');
  const raws = loadOrBuild(nBlocks, inputs);
  const bytes = raws.reduce((s, r) => s + r.length, 0);
  console.log(
    `chain: ${raws.length} blocks (${nBlocks} of ${inputs} inputs), ${(bytes / 1e6).toFixed(1)} MB; ` +
      `verify threads ${threads}, dbcache ${dbcache} MB`,
  );

  // Warm-up (untimed): the first run in a process pays for JIT compilation; neither measured run
  // below should.
  await connectAll(raws.slice(0, Math.min(raws.length, 400)), threads + 1, dbcache);
  // Reference: bench connect's local connect of the same raw blocks, no network.
  // Each repeat is one local connect then one catch-up served from the chain it built; the
  // ratio of each pair is taken in the same conditions, and the median pair is printed.
  const pairs: { local: number; p2p: number; wire: number }[] = [];
  let inputCount = 0;
  for (let i = 0; i < repeat; i++) {
    const local = await connectAll(raws, threads + 1, dbcache, { keepDir: true });
    inputCount = local.inputs;
    const dir = local.dir!;
    try {
      const worker = new Worker(fileURLToPath(import.meta.url), {
        workerData: { role: 'sync-source', dir, dbcacheMB: dbcache } satisfies SourceData,
      });
      const src = await nextMessage<{ url: string; height: number }>(worker);
      if (src.height !== local.height) throw new Error(`source at ${src.height}, expected ${local.height}`);
      const p2p = await catchUp(src.url, src.height, threads, dbcache, nowAt(raws[raws.length - 1]));
      worker.postMessage('stop');
      await nextMessage(worker);
      await worker.terminate();
      pairs.push({ local: local.secs, p2p: p2p.secs, wire: p2p.wireBytes });
      if (repeat > 1)
        console.log(
          `  repeat ${i + 1}: local ${local.secs.toFixed(2)} s, p2p ${p2p.secs.toFixed(2)} s, ratio ${(local.secs / p2p.secs).toFixed(2)}`,
        );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  pairs.sort((a, b) => a.local / a.p2p - b.local / b.p2p);
  const mid = pairs[pairs.length >> 1];
  const line = (what: string, secs: number, extra = ''): string =>
    `${what}${secs.toFixed(2)} s = ${(raws.length / secs).toFixed(1)} blocks/s, ` +
    `${Math.round(inputCount / secs).toLocaleString('en-US')} inputs/s, ${(bytes / 1e6 / secs).toFixed(2)} MB/s${extra}`;
  console.log(line('reference: local connect, no network (bench connect): ', mid.local));
  console.log(
    line(
      'p2p catch-up from one peer over loopback:             ',
      mid.p2p,
      ` (${(mid.wire / 1e6).toFixed(1)} MB received)`,
    ),
  );
  console.log(
    `ratio p2p / local: ${(mid.local / mid.p2p).toFixed(2)} (1 = the network costs nothing)` +
      (repeat > 1 ? `, median of ${repeat} pairs` : ''),
  );

  // The line starts from the set-up blocks; its new blocks are the first spend blocks.
  const preload = raws.length - nBlocks;
  const { totalMs, firstMs } = await lineLatency(raws, preload, rounds, threads, dbcache);
  const ms = (x: number): string => `${x.toFixed(1)} ms`;
  console.log(
    `line of 5 nodes, new block of ${inputs} inputs, ${rounds} blocks: submit -> 5th node connected ` +
      `median ${ms(median(totalMs))} (min ${ms(Math.min(...totalMs))}, max ${ms(Math.max(...totalMs))}); ` +
      `validation at the first node median ${ms(median(firstMs))}; ` +
      `per hop median ${ms((median(totalMs) - median(firstMs)) / 4)}`,
  );
}

if (!isMainThread && (workerData as SourceData | undefined)?.role === 'sync-source') {
  void serveSource(workerData as SourceData);
}

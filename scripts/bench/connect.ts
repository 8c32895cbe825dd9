// `npm run bench -- connect [--blocks N] [--inputs N] [--dbcache MB] [--threads a,b] [--warm] [--run N]
// [--rounds N]`:
// builds a regtest chain of N blocks (default 1,000) after 110 set-up blocks, each full of P2PKH spends
// (default 100 inputs per block, 2-in 2-out transactions), then connects it into a fresh data
// directory with full validation, once per thread count (default 1 and all cores; counted as Core's
// -par counts them, the connecting thread included, so N is N - 1 workers), and prints
// blocks/s, inputs/s and peak memory. Reference in the same run: the raw single-thread signature
// verification rate of the active secp256k1 backend on the same kind of signatures, which bounds
// inputs/s per core, measured again after every run (each run is set against the mean of the
// rates around it), and its rate per CPU second beside the run's inputs per CPU second: on a
// shared machine the wall-clock rates drift, the CPU figures hardly. With --warm each thread count is run a second time as blocks whose
// transactions were all in the mempool first: before a block is handed to the chain, each of its
// transactions is recorded in the chain's script-execution cache under the standard flags, as the
// mempool's onScriptsVerified does on entry (node/start.ts), so only what a mempool cannot have
// checked remains (decoding, contextual rules, the coins). The built chain is cached under .tmp/
// so later runs skip building it. Blocks are handed to the chain as a syncing node's p2p/sync.ts
// hands over the blocks it holds: in runs of up to 4 (HANDOVER_RUN) with Chain.processBlocks, the
// blocks after a run supplied as the chain asks for them; `--run 1` hands them over one at a time,
// each awaited, none supplied. `--rounds N` does all that N times, every other round in the reverse
// order (so a machine's drift falls on every thread count alike), then prints the medians and
// ranges: each run's share of raw verify, and each thread count as a multiple of the first in the
// same round.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { setTimeout } from 'node:timers/promises';
import { Chain } from '../../src/chain/chain.js';
import { ScriptVerifyPool } from '../../src/chain/verify-pool.js';
import { getParams } from '../../src/consensus/params.js';
import { activeBackend, encodeDer, signDer } from '../../src/crypto/secp256k1.js';
import { sha256d } from '../../src/crypto/hash.js';
import { Block } from '../../src/primitives/block.js';
import { concatBytes } from '../../src/primitives/bytes.js';
import { Tx, TxIn, TxOut } from '../../src/primitives/tx.js';
import { STANDARD_SCRIPT_FLAGS } from '../../src/script/flags.js';
import { SIGHASH_ALL, signatureHash } from '../../src/script/sighash.js';
import { pushData } from '../../src/script/standard.js';
import { LevelChainStore } from '../../src/storage/level-store.js';
import { HANDOVER_RUN } from '../../src/p2p/sync.js';
import { Builder, TEST_KEY, type Spendable } from '../../test/chain/builder.js';
import { readFrames } from '../../test/integration/crash-child.js';

const params = getParams('regtest');

export function arg(args: string[], name: string, def: string): string {
  const i = args.indexOf('--' + name);
  return i >= 0 && args[i + 1] ? args[i + 1] : def;
}

/** libsecp256k1 signing when the native binding loads (building 100k signatures with noble is slow). */
function signer(): (msg: Uint8Array) => Uint8Array {
  try {
    const native = createRequire(import.meta.url)('secp256k1') as {
      ecdsaSign(msg: Uint8Array, sk: Uint8Array): { signature: Uint8Array };
    };
    return (msg) => {
      const sig = native.ecdsaSign(msg, TEST_KEY).signature;
      const big = (b: Uint8Array): bigint => BigInt('0x' + Buffer.from(b).toString('hex'));
      return encodeDer(big(sig.subarray(0, 32)), big(sig.subarray(32)));
    };
  } catch {
    return (msg) => signDer(msg, TEST_KEY);
  }
}

function buildChain(nBlocks: number, inputsPerBlock: number): Block[] {
  const b = new Builder(params);
  const sign = signer();
  const spend2 = (ins: Spendable[]): Tx => {
    const total = ins[0].value + ins[1].value;
    const outs = [new TxOut(total / 2n, b.script), new TxOut(total - total / 2n, b.script)];
    const unsigned = new Tx(
      1,
      ins.map((i) => new TxIn(i.outpoint, new Uint8Array(0))),
      outs,
      0,
    );
    const signed = ins.map((inp, i) => {
      const sig = concatBytes(
        sign(signatureHash(inp.script, unsigned, i, SIGHASH_ALL)),
        Uint8Array.of(SIGHASH_ALL),
      );
      return new TxIn(inp.outpoint, concatBytes(pushData(sig), pushData(b.pub)));
    });
    return new Tx(1, signed, outs, 0);
  };
  const setup = b.chain(b.genesis, 110);
  // Fan the first coinbases out into a pool of outputs large enough to feed every block.
  const pool: Spendable[] = [];
  const fanTxs: Tx[] = [];
  const per = 200;
  for (let k = 0; pool.length < inputsPerBlock * 2; k++) {
    const cb = b.cbOut(setup[k]);
    const outs = Array.from({ length: per }, () => new TxOut(cb.value / BigInt(per), b.script));
    const unsigned = new Tx(1, [new TxIn(cb.outpoint, new Uint8Array(0))], outs, 0);
    const tx = b.sign(unsigned, [cb]);
    fanTxs.push(tx);
    for (let i = 0; i < per; i++) pool.push(b.out(tx, i));
  }
  const blocks = [...setup, b.block(setup[109], { txs: fanTxs })];
  for (let n = 0; n < nBlocks; n++) {
    const txs: Tx[] = [];
    const made: Spendable[] = [];
    for (let i = 0; i < inputsPerBlock; i += 2) {
      const tx = spend2([pool.shift()!, pool.shift()!]);
      txs.push(tx);
      made.push(b.out(tx, 0), b.out(tx, 1));
    }
    pool.push(...made);
    blocks.push(b.block(blocks[blocks.length - 1], { txs }));
  }
  return blocks;
}

/**
 * Raw blocks: they are decoded one at a time while connecting, as they would arrive from peers.
 * 110 set-up blocks, a fan-out block, then `nBlocks` blocks of `inputs` P2PKH inputs each.
 */
export function loadOrBuild(nBlocks: number, inputs: number): Uint8Array[] {
  const dir = '.tmp';
  const file = join(dir, `bench-connect-${nBlocks}x${inputs}.dat`);
  if (existsSync(file)) return readFrames(new Uint8Array(readFileSync(file)));
  const t0 = performance.now();
  const blocks = buildChain(nBlocks, inputs);
  const parts: Uint8Array[] = [];
  for (const blk of blocks) {
    const raw = blk.encode();
    const h = new Uint8Array(8);
    new DataView(h.buffer).setUint32(4, raw.length, true);
    parts.push(h, raw);
  }
  mkdirSync(dir, { recursive: true });
  writeFileSync(file, concatBytes(...parts));
  console.log(
    `built ${blocks.length} blocks in ${((performance.now() - t0) / 1000).toFixed(1)} s (cached in ${file})`,
  );
  return blocks.map((b) => b.encode());
}

/** Raw single-thread verification on signatures like the chain's: per wall second and per CPU second. */
function referenceVerify(): { rate: number; cpuRate: number } {
  const sign = signer();
  const backend = activeBackend();
  const pub = new Builder(params).pub;
  const items: [Uint8Array, Uint8Array][] = [];
  for (let i = 0; i < 2000; i++) {
    const msg = sha256d(Uint8Array.of(i & 0xff, i >> 8));
    const der = sign(msg);
    // DER -> 64-byte compact (r, s): both are at most 33 bytes with a sign pad.
    const rl = der[3];
    const r = der.subarray(4, 4 + rl);
    const s = der.subarray(6 + rl);
    const sig = new Uint8Array(64);
    sig.set(r.subarray(r.length - Math.min(32, r.length)), 32 - Math.min(32, r.length));
    sig.set(s.subarray(s.length - Math.min(32, s.length)), 64 - Math.min(32, s.length));
    items.push([sig, msg]);
  }
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  let ok = 0;
  for (let round = 0; round < 3; round++)
    for (const [sig, msg] of items) if (backend.verify(sig, msg, pub)) ok++;
  const secs = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(c0);
  if (ok !== items.length * 3) throw new Error('reference signatures did not verify');
  return { rate: (items.length * 3) / secs, cpuRate: (items.length * 3 * 1e6) / (cpu.user + cpu.system) };
}

export interface ConnectResult {
  secs: number;
  /** CPU time of the whole process (every thread) while connecting: what a loaded machine's
   * wall clock hides. */
  cpuSecs: number;
  inputs: number;
  height: number;
  utxos: number;
  peakMB: number;
  heapMB: number;
  cacheMB: number;
  /** The data directory, left in place (closed) when asked for with keepDir; the caller removes it. */
  dir?: string;
}

/** The chain options every bench run uses: block times run ahead of the wall clock. */
export const BENCH_NOW = (): number => 4_000_000_000;

/** Connects the raw blocks into a fresh data directory with full validation, timed. */
export async function connectAll(
  raws: Uint8Array[],
  /** Verifying threads, the connecting one included (Core's -par): threads - 1 workers. */
  threads: number,
  dbcacheMB: number,
  opts: { keepDir?: boolean; warm?: boolean; run?: number } = {},
): Promise<ConnectResult> {
  const dir = mkdtempSync(join(tmpdir(), 'tally-bench-connect-'));
  let kept = false;
  let peak = 0;
  let peakHeap = 0;
  const sample = (): void => {
    const m = process.memoryUsage();
    peak = Math.max(peak, m.rss);
    peakHeap = Math.max(peakHeap, m.heapUsed);
  };
  const timer = setInterval(sample, 50);
  // par counts the connecting thread, which verifies a share itself.
  const workers = Math.max(0, threads - 1);
  const pool = ScriptVerifyPool.create({ threads: workers });
  try {
    // A node's verify workers have loaded (their module and libsecp256k1) long before it connects
    // blocks: they are waited for here, untimed, as a running node's would be.
    const until = performance.now() + 10_000;
    while (pool.loadedWorkers < workers && performance.now() < until) await setTimeout(5);
    const chain = await Chain.open({
      store: await LevelChainStore.open(dir),
      params,
      verifyPool: pool,
      dbcacheMB,
      now: BENCH_NOW,
    });
    let inputs = 0;
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    // Blocks go to the chain as p2p/sync.ts hands over the blocks it holds: in runs of up to
    // `run` (HANDOVER_RUN) in chain order, decoded on arrival, each run with the next blocks
    // supplied one at a time as the chain asks for them (up to MAX_SUPPLIED_BLOCKS).
    const run = opts.run ?? HANDOVER_RUN;
    let at = 0;
    const arrive = (): Block => {
      const b = Block.decode(raws[at++]);
      for (const t of b.txs.slice(1)) {
        inputs += t.inputs.length;
        // What mempool entry leaves behind (the pool's onScriptsVerified): a warm block.
        if (opts.warm) chain.scriptCache.add(t.txid(), STANDARD_SCRIPT_FLAGS);
      }
      return b;
    };
    const handOver = (): Block[] => {
      const blocks: Block[] = [];
      while (blocks.length < run && at < raws.length) blocks.push(arrive());
      return blocks;
    };
    while (at < raws.length) {
      const first = at;
      const supply = (): Block | null => (run === 1 || at === raws.length ? null : arrive());
      // The run is not held here while the chain connects it (nor by the chain once accepted).
      const rs = await chain.processBlocks(handOver(), supply);
      rs.forEach((r, i) => {
        if (!r.accepted) throw new Error(`block ${first + i} of the chain rejected: ${r.reason}`);
      });
    }
    await chain.flushState();
    const secs = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(c0);
    sample();
    const cacheMB = chain.cacheBytes / 2 ** 20;
    const digest = await chain.utxoDigest();
    await chain.close();
    kept = opts.keepDir === true;
    return {
      secs,
      cpuSecs: (cpu.user + cpu.system) / 1e6,
      inputs,
      height: digest.height,
      utxos: digest.count,
      peakMB: peak / 2 ** 20,
      heapMB: peakHeap / 2 ** 20,
      cacheMB,
      dir: kept ? dir : undefined,
    };
  } finally {
    clearInterval(timer);
    await pool.close();
    if (!kept) rmSync(dir, { recursive: true, force: true });
  }
}

export async function run(args: string[]): Promise<void> {
  const nBlocks = Number(arg(args, 'blocks', '1000'));
  const inputs = Number(arg(args, 'inputs', '100'));
  const dbcache = Number(arg(args, 'dbcache', '50'));
  const threadList = arg(args, 'threads', `1,${availableParallelism()}`).split(',').map(Number);
  const warm = args.includes('--warm');
  const run = Number(arg(args, 'run', String(HANDOVER_RUN)));
  const nRounds = Number(arg(args, 'rounds', '1'));
  const blocks = loadOrBuild(nBlocks, inputs);
  global.gc?.();
  console.log(`RSS before connecting: ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MB`);
  const ref = referenceVerify().rate;
  let before = ref;
  console.log(
    `reference: raw ${activeBackend().name} verify, 1 thread: ${Math.round(ref).toLocaleString('en-US')} sigs/s`,
  );
  console.log(
    `chain: ${blocks.length} blocks, ${inputs} inputs per spend block, dbcache ${dbcache} MB, handed over ${run} at a time`,
  );
  const runs = threadList.flatMap((t) =>
    warm
      ? ([
          [t, 'cold'],
          [t, 'warm'],
        ] as const)
      : ([[t, 'cold']] as const),
  );
  /** Per round: inputs/s and its share of raw verify, by "threads mode". */
  const rounds: Map<string, { secs: number; rate: number; share: number }>[] = [];
  for (let round = 0; round < nRounds; round++) {
    const got = new Map<string, { secs: number; rate: number; share: number }>();
    rounds.push(got);
    // Every other round in the reverse order, so that a machine's drift falls on both alike.
    for (const [threads, mode] of round % 2 === 0 ? runs : [...runs].reverse()) {
      const r = await connectAll(blocks, threads, dbcache, { warm: mode === 'warm', run });
      // Raw verify again right after the run: on a shared machine the rate drifts between the start
      // of the bench and this run, so each run is set against the mean of the rates around it.
      const raw = referenceVerify();
      const around = (before + raw.rate) / 2;
      before = raw.rate;
      got.set(`${threads} ${mode}`, {
        secs: r.secs,
        rate: r.inputs / r.secs,
        share: r.inputs / r.secs / around,
      });
      console.log(
        `threads ${threads}${warm ? ` ${mode}` : ''}: ${r.height} blocks in ${r.secs.toFixed(2)} s = ${(blocks.length / r.secs).toFixed(1)} blocks/s, ` +
          `${Math.round(r.inputs / r.secs).toLocaleString('en-US')} inputs/s (${Math.round(r.inputs / r.secs / Math.max(threads, 1)).toLocaleString('en-US')}/s per verify thread), ` +
          `CPU ${r.cpuSecs.toFixed(2)} s (${Math.round(r.inputs / r.cpuSecs).toLocaleString('en-US')} inputs per CPU second), ` +
          `peak RSS ${r.peakMB.toFixed(0)} MB (main heap ${r.heapMB.toFixed(0)} MB), ${r.utxos} UTXOs; ` +
          `raw verify around it ${Math.round(around).toLocaleString('en-US')} sigs/s (inputs/s ${(r.inputs / r.secs / around).toFixed(2)} of it), ` +
          `${Math.round(raw.cpuRate).toLocaleString('en-US')} sigs per CPU second after it (inputs per CPU second ${(r.inputs / r.cpuSecs / raw.cpuRate).toFixed(2)} of it)`,
      );
    }
  }
  if (nRounds > 1) printRounds(rounds, runs, threadList[0]);
}

/** Median and range of `xs`, formatted with `f`. */
function spread(xs: number[], f: (x: number) => string): string {
  const v = [...xs].sort((a, b) => a - b);
  const mid = v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
  return `${f(mid)} (${f(v[0])}-${f(v[v.length - 1])})`;
}

/**
 * The rounds' medians and ranges: each run's time and share of raw verify, and each thread
 * count's inputs/s over the first thread count's in the same round and mode.
 */
function printRounds(
  rounds: Map<string, { secs: number; rate: number; share: number }>[],
  runs: readonly (readonly [number, 'cold' | 'warm'])[],
  base: number,
): void {
  console.log(`median (range) of ${rounds.length} rounds:`);
  for (const [threads, mode] of runs) {
    const k = `${threads} ${mode}`;
    const of = (f: (x: { secs: number; rate: number; share: number }) => number): number[] =>
      rounds.map((r) => f(r.get(k)!));
    let line =
      `  threads ${threads} ${mode}: ${spread(
        of((x) => x.secs),
        (x) => `${x.toFixed(2)} s`,
      )}, ` +
      `${spread(
        of((x) => x.share),
        (x) => x.toFixed(2),
      )} of raw verify`;
    if (threads !== base)
      line += `, ${spread(
        rounds.map((r) => r.get(k)!.rate / r.get(`${base} ${mode}`)!.rate),
        (x) => `${x.toFixed(2)}x`,
      )} threads ${base}`;
    if (mode === 'warm')
      line += `, ${spread(
        rounds.map((r) => r.get(k)!.rate / r.get(`${threads} cold`)!.rate),
        (x) => `${x.toFixed(1)}x`,
      )} cold`;
    console.log(line);
  }
}

// Simulates Tally's ASERT difficulty rule over synthetic chains to choose its half-life.
//
//   npm run build && node dist/scripts/simulate-retarget.js [--seed N] [--trials N]
//
// Every block's bits come from the consensus code itself (getNextWorkRequired); only the block
// times are synthetic: the time to find a block at target T with hash rate h is exponential with
// mean (2^256 / (T + 1)) / h. A seeded PRNG makes the figures reproduce; docs/difficulty.md
// records them.
import { parseArgs } from 'node:util';
import { createGenesisBlock } from '../src/consensus/genesis.js';
import { getParams, type ChainParams } from '../src/consensus/params.js';
import { blockWork, targetToCompact } from '../src/consensus/pow.js';
import { getNextWorkRequired, type HeaderInfo } from '../src/consensus/retarget.js';

const SPACING = 600;
const BAND = 0.1; // "back on schedule" = moving average within 10% of 600 s
const WINDOW = 36; // blocks in the moving average (6 hours at 600 s)
const HALF_LIVES: [string, number][] = [
  ['1 h', 3600],
  ['6 h', 6 * 3600],
  ['12 h', 12 * 3600],
  ['1 d', 86400],
  ['2 d', 2 * 86400],
];

/** splitmix32-style generator: small, fast, and the same sequence on every platform. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    z = (z ^ (z >>> 16)) >>> 0;
    return (z + 0.5) / 4294967296; // in (0, 1): log() below never sees 0
  };
}

/** Parameters of Tally main with the half-life under test, anchored at a genesis of `bits` at time 0. */
function simParams(base: ChainParams, halfLife: number, bits: number, genesisTime: number): ChainParams {
  const genesis = createGenesisBlock({
    version: 1,
    time: genesisTime,
    bits,
    nonce: 0,
    scriptSig: Uint8Array.of(0),
    reward: 0n,
    outputScript: Uint8Array.of(0x6a),
  });
  return { ...base, genesis, retarget: { kind: 'asert', halfLife } };
}

interface Run {
  intervals: number[];
}

/**
 * Mines `blocks` blocks after genesis, the first search starting at `start`; `hashRate(i)` is the
 * hash rate (H/s) while block i is mined. Timestamps are whole seconds, as real headers carry.
 */
function simulate(
  params: ChainParams,
  blocks: number,
  hashRate: (i: number) => number,
  rand: () => number,
  start = params.genesis.header.time,
): Run {
  const chain: HeaderInfo[] = [
    { height: 0, time: params.genesis.header.time, bits: params.genesis.header.bits },
  ];
  const getAncestor = (h: number) => chain[h];
  let clock = start;
  const intervals: number[] = [];
  for (let i = 1; i <= blocks; i++) {
    const prev = chain[i - 1];
    const bits = getNextWorkRequired(prev, getAncestor, params);
    const mean = Number(blockWork(bits)) / hashRate(i);
    clock += -Math.log(rand()) * mean;
    const time = Math.floor(clock);
    intervals.push(time - prev.time);
    chain.push({ height: i, time, bits });
  }
  return { intervals };
}

function mean(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}
function std(xs: number[]): number {
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / xs.length);
}
function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** Moving averages of WINDOW intervals; entry k covers intervals k-WINDOW+1 .. k. */
function movingAverage(xs: number[]): number[] {
  const out: number[] = [];
  let sum = 0;
  for (let k = 0; k < xs.length; k++) {
    sum += xs[k];
    if (k >= WINDOW) sum -= xs[k - WINDOW];
    out.push(k >= WINDOW - 1 ? sum / WINDOW : NaN);
  }
  return out;
}

/**
 * Blocks after `from` until the moving average, once it covers only blocks mined after `from`,
 * is within the band; and the seconds that took. Infinity when it never gets there.
 */
function recovery(intervals: number[], from: number): { blocks: number; seconds: number } {
  const ma = movingAverage(intervals);
  for (let k = from + WINDOW - 1; k < intervals.length; k++) {
    if (Math.abs(ma[k] - SPACING) <= BAND * SPACING) {
      let seconds = 0;
      for (let j = from; j <= k; j++) seconds += intervals[j];
      return { blocks: k - from + 1, seconds };
    }
  }
  return { blocks: Infinity, seconds: Infinity };
}

function fmtHours(s: number): string {
  return Number.isFinite(s) ? (s / 3600).toFixed(1) + ' h' : 'never';
}
function fmtBlocks(b: number): string {
  return Number.isFinite(b) ? String(Math.round(b)) : 'never';
}
function row(cells: (string | number)[]): string {
  return '| ' + cells.join(' | ') + ' |';
}
function tableHead(columns: string[]): void {
  console.log(row(columns));
  console.log(row(columns.map(() => '---')));
}

function main(): void {
  const { values } = parseArgs({
    options: {
      seed: { type: 'string', default: '20261124' },
      trials: { type: 'string', default: '12' },
    },
  });
  const seed = Number(values.seed);
  const trials = Number(values.trials);
  const base = getParams('main');
  const H = 20e6; // one 4-core machine with the WASM miner
  // Bits at which H finds a block every 600 s on average: the steady state.
  const steadyBits = targetToCompact((1n << 256n) / BigInt(H * SPACING) - 1n);
  const steps = 2000; // blocks before a step; long enough to settle at every half-life tried
  const after = 4000;

  console.log(
    `seed ${seed}, ${trials} trials per cell, hash rate ${H / 1e6} MH/s, moving average ${WINDOW} blocks`,
  );
  console.log(
    `main powLimit bits ${base.powLimitBits.toString(16)}: ${blockWork(base.powLimitBits)} hashes a block\n`,
  );

  console.log(
    'Steady hash rate (4000 blocks) and a random walk of the hash rate (x e^N(0, 0.03) a block):\n',
  );
  tableHead([
    'half-life',
    'steady mean s',
    'steady std s',
    'steady MA in band',
    'walk mean s',
    'walk std s',
    'walk MA in band',
  ]);
  for (const [label, halfLife] of HALF_LIVES) {
    const p = simParams(base, halfLife, steadyBits, 0);
    const st: number[][] = [];
    const wk: number[][] = [];
    for (let t = 0; t < trials; t++) {
      const rand = prng(seed + t);
      st.push(simulate(p, 4000, () => H, rand).intervals);
      const walk = prng(seed + 1000 + t);
      let rate = H;
      const rates: number[] = [0];
      for (let i = 1; i <= 4000; i++) {
        // Box-Muller for a normal step; a multiplicative walk keeps the rate positive.
        const n = Math.sqrt(-2 * Math.log(walk())) * Math.cos(2 * Math.PI * walk());
        rate *= Math.exp(0.03 * n);
        rates.push(rate);
      }
      wk.push(simulate(p, 4000, (i) => rates[i], rand).intervals);
    }
    const inBand = (runs: number[][]) =>
      mean(
        runs.map((r) => {
          const ma = movingAverage(r).slice(WINDOW - 1);
          return ma.filter((m) => Math.abs(m - SPACING) <= BAND * SPACING).length / ma.length;
        }),
      );
    const flat = (runs: number[][]) => runs.flat();
    console.log(
      row([
        label,
        mean(flat(st)).toFixed(1),
        std(flat(st)).toFixed(1),
        (100 * inBand(st)).toFixed(1) + '%',
        mean(flat(wk)).toFixed(1),
        std(flat(wk)).toFixed(1),
        (100 * inBand(wk)).toFixed(1) + '%',
      ]),
    );
  }

  console.log('\nA step in hash rate after 2000 steady blocks: blocks and hours until the moving average');
  console.log(
    'is back within 10% of 600 s (median over the trials), and mean interval over the 4000 after:\n',
  );
  tableHead([
    'half-life',
    'x10 jump: blocks',
    'x10 jump: time',
    'x10 jump: mean s',
    '/10 drop: blocks',
    '/10 drop: time',
    '/10 drop: mean s',
  ]);
  for (const [label, halfLife] of HALF_LIVES) {
    const p = simParams(base, halfLife, steadyBits, 0);
    const cells: string[] = [label];
    for (const factor of [10, 0.1]) {
      const rec: { blocks: number; seconds: number }[] = [];
      const means: number[] = [];
      for (let t = 0; t < trials; t++) {
        const run = simulate(p, steps + after, (i) => (i <= steps ? H : H * factor), prng(seed + 2000 + t));
        rec.push(recovery(run.intervals, steps));
        means.push(mean(run.intervals.slice(steps)));
      }
      cells.push(fmtBlocks(median(rec.map((r) => r.blocks))));
      cells.push(fmtHours(median(rec.map((r) => r.seconds))));
      cells.push(mean(means).toFixed(0));
    }
    console.log(row(cells));
  }

  console.log('\nLaunch: Tally main genesis bits, one 20 MH/s machine from the genesis time on (the real');
  console.log('start of the chain, anchored at powLimit): blocks and hours until the moving average');
  console.log('first reaches 600 s within 10%, and blocks mined in the first hour; then the same when');
  console.log('mining starts a week after the genesis time (ASERT sees the chain a week behind):\n');
  tableHead(['half-life', 'blocks', 'time', 'blocks in first hour', 'week late: blocks', 'week late: time']);
  for (const [label, halfLife] of HALF_LIVES) {
    const p = simParams(base, halfLife, base.genesis.header.bits, 0);
    const rec: { blocks: number; seconds: number }[] = [];
    const late: { blocks: number; seconds: number }[] = [];
    const firstHour: number[] = [];
    for (let t = 0; t < trials; t++) {
      const run = simulate(p, 12000, () => H, prng(seed + 3000 + t));
      rec.push(recovery(run.intervals, 0));
      const lateRun = simulate(p, 12000, () => H, prng(seed + 4000 + t), 7 * 86400);
      // The first interval includes the week of waiting; count from the first mined block on.
      late.push(recovery(lateRun.intervals.slice(1), 0));
      let s = 0;
      let n = 0;
      for (const x of run.intervals) {
        s += x;
        if (s > 3600) break;
        n++;
      }
      firstHour.push(n);
    }
    console.log(
      row([
        label,
        fmtBlocks(median(rec.map((r) => r.blocks))),
        fmtHours(median(rec.map((r) => r.seconds))),
        fmtBlocks(median(firstHour)),
        fmtBlocks(median(late.map((r) => r.blocks + 1))),
        fmtHours(median(late.map((r) => r.seconds))),
      ]),
    );
  }
}

main();

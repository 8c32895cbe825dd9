// `tally mine`: a miner that needs no chain of its own, on every core with the node's kernels.
// `--pool stratum+tcp://HOST:PORT --address ADDR` mines shares for a Stratum server (a Tally node's
// --stratum port, or any pool); `--rpc http://HOST:PORT` mines whole blocks from a node's
// getblocktemplate, long-polling for new work, and hands them back with submitblock. Prints the
// hash rate and the accepted and rejected shares or blocks. Stops on SIGINT/SIGTERM (or after
// --max-shares); a lost pool or node ends it with one line and exit code 1.
import type { Command } from 'commander';
import { formatHashRate } from '../mining/hash-rate.js';
import { nativeStatus, type KernelName } from '../mining/hasher.js';
import { Miner, type FoundHeader, type Work, type WorkReason } from '../mining/miner.js';
import { assembleBlock, type BlockTemplate } from '../mining/template.js';
import { addressToScript } from '../primitives/address.js';
import { bytesToHex, hashFromHex, hexToBytes } from '../primitives/bytes.js';
import { Tx } from '../primitives/tx.js';
import type { RpcClient } from '../rpc/client.js';
import type { ChainParams } from '../consensus/params.js';
import { StratumClient, type StratumJob } from '../stratum/client.js';
import { difficultyToTarget, shareHeader } from '../stratum/protocol.js';
import type { CliIO } from './main.js';

interface MineFlags {
  pool?: string;
  rpc?: string;
  address?: string;
  password?: string;
  threads?: string;
  kernel?: string;
  maxShares?: string;
  statsSeconds?: string;
}

export interface MineDeps {
  /** An RPC client for a node URL (credentials from the URL, the global flags or the cookie). */
  rpcClient(url: URL, signal: AbortSignal): RpcClient;
  params(): ChainParams;
}

class Tally {
  accepted = 0;
  rejected = 0;
  constructor(
    private readonly io: CliIO,
    private readonly miner: Miner,
    private readonly what: string,
  ) {}
  ok(detail: string): void {
    this.accepted++;
    this.io.stdout.write(
      `${this.what} accepted (${this.accepted} accepted, ${this.rejected} rejected) ${detail}\n`,
    );
  }
  bad(reason: string): void {
    this.rejected++;
    this.io.stdout.write(
      `${this.what} rejected: ${reason} (${this.accepted} accepted, ${this.rejected} rejected)\n`,
    );
  }
  rate(): void {
    this.io.stdout.write(
      `hash rate ${formatHashRate(this.miner.hashrate)} on ${this.miner.threads} threads (${this.miner.kernel}); ` +
        `${this.accepted} accepted, ${this.rejected} rejected\n`,
    );
  }
}

function positiveInt(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v) || Number(v) < 1) throw new RangeError(`--${name} must be a positive integer`);
  return Number(v);
}

/** Mines shares for a Stratum pool until the signal aborts or the pool goes away. */
async function minePool(
  io: CliIO,
  o: MineFlags,
  miner: Miner,
  signal: AbortSignal,
  stop: () => void,
): Promise<string | null> {
  const user = o.address;
  if (!user) throw new RangeError('--pool needs --address ADDR (the pool pays it; ADDR.NAME names a worker)');
  const client = await StratumClient.connect(o.pool!);
  let lost: string | null = null;
  client.on('close', (why) => {
    lost = why;
    stop();
  });
  // A new job or difficulty takes effect at once: the running search is abandoned.
  client.on('job', () => miner.abort());
  client.on('difficulty', () => miner.abort());
  signal.addEventListener('abort', () => client.close('stopped'));
  await client.login(user, o.password ?? 'x');
  io.stdout.write(`mining for ${o.pool} as ${user}\n`);
  const tally = new Tally(io, miner, 'share');
  const timer = setInterval(() => tally.rate(), 1000 * (positiveInt('stats-seconds', o.statsSeconds) ?? 30));
  timer.unref();
  const max = positiveInt('max-shares', o.maxShares);
  // extranonce2 only ever counts up, so no two searches hash the same header, whatever the jobs.
  let en2 = 0;
  let current: { job: StratumJob; en2: Uint8Array; start: number } | null = null;
  const en2Bytes = (n: number): Uint8Array => {
    const b = new Uint8Array(client.extranonce2Size);
    for (let i = 0; i < b.length && i < 4; i++) b[b.length - 1 - i] = (n >>> (8 * i)) & 0xff;
    return b;
  };
  const getWork = async (reason: WorkReason): Promise<Work | null> => {
    while (!client.job && !signal.aborted) await new Promise((r) => setTimeout(r, 50));
    const job = client.job;
    if (!job || signal.aborted) return null;
    if (!current || current.job !== job || reason === 'exhausted' || current.start >= 2 ** 32)
      current = { job, en2: en2Bytes(en2++), start: 0 };
    const { header } = shareHeader(job, client.extranonce1, current.en2, job.time, 0);
    return {
      header: header.encode(),
      target: difficultyToTarget(client.difficulty),
      startNonce: current.start,
    };
  };
  const onFound = (found: FoundHeader): void => {
    const work = current!;
    work.start = found.nonce + 1;
    client.submit(user, work.job.jobId, work.en2, work.job.time, found.nonce).then(
      () => {
        tally.ok(`nonce ${found.nonce.toString(16).padStart(8, '0')} job ${work.job.jobId}`);
        if (max !== undefined && tally.accepted >= max) stop();
      },
      (err: Error) => tally.bad(err.message),
    );
  };
  try {
    await miner.mine(getWork, onFound, { signal });
  } finally {
    clearInterval(timer);
    client.close('stopped');
    tally.rate();
  }
  return lost === 'stopped' ? null : lost;
}

interface Gbt {
  version: number;
  previousblockhash: string;
  transactions: { data: string; txid: string; fee: number; sigops: number; depends: number[] }[];
  coinbasevalue: number;
  longpollid: string;
  target: string;
  mintime: number;
  curtime: number;
  bits: string;
  height: number;
}

function gbtTemplate(g: Gbt): BlockTemplate {
  return {
    height: g.height,
    prevHash: hashFromHex(g.previousblockhash),
    version: g.version,
    bits: parseInt(g.bits, 16),
    target: BigInt('0x' + g.target),
    curtime: g.curtime,
    mintime: g.mintime,
    coinbaseValue: BigInt(g.coinbasevalue),
    txs: g.transactions.map((t) => ({
      tx: Tx.decode(hexToBytes(t.data)),
      txid: t.txid,
      fee: BigInt(t.fee),
      sigops: t.sigops,
      depends: t.depends,
    })),
    sigops: 0,
    size: 0,
  };
}

/** Mines blocks from a node's getblocktemplate, long-polling for new work. */
async function mineRpc(
  io: CliIO,
  o: MineFlags,
  deps: MineDeps,
  miner: Miner,
  signal: AbortSignal,
  stop: () => void,
): Promise<string | null> {
  if (!o.address) throw new RangeError('--rpc needs --address ADDR (paid by the blocks found)');
  const payout = addressToScript(o.address, deps.params().prefixes);
  const rpc = deps.rpcClient(new URL(o.rpc!), signal);
  let gbt = await rpc.call<Gbt>('getblocktemplate', [{ rules: [] }]);
  io.stdout.write(`mining blocks from ${o.rpc} at height ${gbt.height}, paying ${o.address}\n`);
  const tally = new Tally(io, miner, 'block');
  const timer = setInterval(() => tally.rate(), 1000 * (positiveInt('stats-seconds', o.statsSeconds) ?? 30));
  timer.unref();
  const max = positiveInt('max-shares', o.maxShares);
  let lost: string | null = null;
  // One long poll at a time: it returns when the node's template changes (or after its timeout).
  const poll = async (): Promise<void> => {
    while (!signal.aborted) {
      try {
        const next = await rpc.call<Gbt>('getblocktemplate', [{ rules: [], longpollid: gbt.longpollid }]);
        if (next.longpollid !== gbt.longpollid) {
          gbt = next;
          miner.abort();
        }
      } catch (err) {
        if (signal.aborted) return;
        lost = `node unreachable: ${(err as Error).message}`;
        stop();
        return;
      }
    }
  };
  const polling = poll();
  let extraNonce = 0;
  let current: { template: BlockTemplate; block: ReturnType<typeof assembleBlock> } | null = null;
  const getWork = (reason: WorkReason): Work | null => {
    if (signal.aborted) return null;
    // Every search gets a fresh extra-nonce on the latest template: an exhausted range, a new
    // template from the long poll and a find all call for one.
    void reason;
    const template = gbtTemplate(gbt);
    const time = Math.max(template.mintime, Math.floor(Date.now() / 1000));
    current = { template, block: assembleBlock(template, payout, extraNonce++, time) };
    return { header: current.block.header.encode(), target: current.template.target };
  };
  const onFound = async (found: FoundHeader): Promise<void> => {
    const block = current!.block;
    const height = current!.template.height;
    let accepted = false;
    const hex = bytesToHex(block.encode());
    // The found header replaces the unsolved one (the first 80 bytes of the block).
    const solved = bytesToHex(found.header) + hex.slice(160);
    try {
      const r = await rpc.call<string | null>('submitblock', [solved]);
      if (r === null) {
        accepted = true;
        tally.ok(`height ${height}`);
      } else tally.bad(r);
    } catch (err) {
      tally.bad((err as Error).message);
    }
    if (accepted) {
      // The block makes its template stale, and the long poll may not have brought the next one
      // yet: mining on would find a sibling of this block at the same height (the node answers
      // "inconclusive"). The node's tip is this block now, so take its template at once.
      try {
        const next = await rpc.call<Gbt>('getblocktemplate', [{ rules: [] }]);
        if (next.longpollid !== gbt.longpollid) gbt = next;
      } catch {
        // An unreachable node is the long poll's to report.
      }
    }
    if (max !== undefined && tally.accepted >= max) stop();
  };
  try {
    await miner.mine(getWork, onFound, { signal });
  } finally {
    clearInterval(timer);
    tally.rate();
  }
  await polling;
  return lost;
}

export function addMineCommand(program: Command, io: CliIO, deps: MineDeps): void {
  program
    .command('mine')
    .description('mine without a chain of its own: for a Stratum pool (--pool) or a node (--rpc)')
    .option('--pool <url>', 'Stratum server, stratum+tcp://HOST:PORT (a Tally node started with --stratum)')
    .option('--rpc <url>', "a node's RPC, http://[USER:PASSWORD@]HOST:PORT (getblocktemplate/submitblock)")
    .option('--address <address>', 'payout address (the Stratum user name; ADDR.NAME names a worker)')
    .option('--user <address>', 'same as --address')
    .option('--password <password>', 'Stratum password (default x)')
    .option('--threads <n>', 'hash threads (default: one per core)')
    .option(
      '--kernel <name>',
      'nonce kernel: native-avx512, native-sha-ni, native-avx2, native-scalar, wasm-simd, js',
    )
    .option('--max-shares <n>', 'stop after this many accepted shares or blocks')
    .option('--stats-seconds <s>', 'seconds between hash rate lines (default 30)')
    .action(async (o: MineFlags & { user?: string }) => {
      o.address ??= o.user;
      if ((o.pool === undefined) === (o.rpc === undefined))
        throw new RangeError('give one of --pool URL or --rpc URL');
      const threads = positiveInt('threads', o.threads);
      const miner = Miner.create({ threads, kernel: (o.kernel ?? 'auto') as KernelName | 'auto' });
      const ac = new AbortController();
      const stop = (): void => ac.abort();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      try {
        await miner.ready();
        const why = nativeStatus();
        if (why && !o.kernel)
          io.stderr.write(`native sha256d kernel unavailable (${why}); mining with ${miner.kernel}\n`);
        io.stdout.write(`tally mine: ${miner.threads} threads, kernel ${miner.kernel}\n`);
        const lost =
          o.pool !== undefined
            ? await minePool(io, o, miner, ac.signal, stop)
            : await mineRpc(io, o, deps, miner, ac.signal, stop);
        if (lost) throw new Error(lost);
      } finally {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        await miner.close();
      }
    });
}

// `npm run bench -- p2p-flood [--attackers N] [--seconds S] [--floods inv,addr,...] [--cpu-prof DIR]
// [--tally A.js,B.js]`: floods a real `tally node` (regtest, dialling nobody, out of initial block
// download: HEADER_CHAIN + 200 blocks mined first) with N raw attackers (default 4) per flood, S
// seconds each (default 10): inv (50,000 random txids per message), addr (1,000 public addresses per
// message), headers (low-work chains of 2,000-header messages forking from genesis, shorter than the
// node's chain less Core's 144-block buffer, so pre-sync never stores them), reader (never reads, asks for a 1 MB block 1,000 times), junk (random frames,
// oversized frames and 100 kB unknown commands, reconnecting when dropped), prejunk (the same from
// connections that never send a version). Before each flood the
// same figures are taken for S seconds with no attacker. Printed per flood: the node's peak RSS
// growth (total and per attacker), the median RPC latency (getblockcount) and an honest peer's
// median ping round trip, quiet beside flooded, and their ratio. Goal (issue 11): RSS growth under
// 50 MB per attacker, honest latency within 2x of quiet. --cpu-prof DIR runs the node under
// `node --cpu-prof` (a .cpuprofile in DIR once it stops: open it in Chrome's DevTools). --tally runs
// the whole bench once per given cli/main.js (another build: a before/after in one run, same load).
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { getParams } from '../../src/consensus/params.js';
import { checkProofOfWork } from '../../src/consensus/pow.js';
import {
  InvType,
  MAX_ADDR,
  MAX_HEADERS,
  MAX_INV,
  MAX_MESSAGE,
  type InvItem,
} from '../../src/p2p/messages.js';
import { encodeAddress } from '../../src/primitives/address.js';
import { BlockHeader } from '../../src/primitives/block.js';
import { bytesToHex } from '../../src/primitives/bytes.js';
import { Builder } from '../../test/chain/builder.js';
import { mine, startNode, stopAll, type TallyProcess } from '../../test/integration/cluster.js';
import { bigBlock } from '../../test/integration/hostile-target.js';
import { RawPeer, rssMB } from '../../test/integration/raw-peer.js';
import { arg } from './connect.js';

const params = getParams('regtest');
const PAY = encodeAddress('pubkeyhash', new Uint8Array(20).fill(4), params.prefixes);
/** Headers per attacker chain of the headers flood (2 full messages: pre-sync starts at the first). */
const HEADER_CHAIN = 2 * MAX_HEADERS;
/** Blocks the node mines first: its chain outweighs HEADER_CHAIN by more than Core's 144-block
 * buffer (GetAntiDoSWorkThreshold), and its tip is recent, so it is out of initial download. */
const NODE_BLOCKS = HEADER_CHAIN + 200;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]): number => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
};

interface Figures {
  rssGrowthMB: number;
  rpcMs: number;
  pingMs: number;
}

/** Samples the node for `ms`: peak RSS over `base`, RPC latency and an honest peer's pings. */
async function measure(node: TallyProcess, honest: RawPeer, ms: number, base: number): Promise<Figures> {
  const until = Date.now() + ms;
  let peak = base;
  const rpc: number[] = [];
  const ping: number[] = [];
  const sampler = setInterval(() => {
    try {
      peak = Math.max(peak, rssMB(node.pid));
    } catch {
      // gone: the caller's liveness check reports it
    }
  }, 100);
  const rpcLoop = (async () => {
    while (Date.now() < until) {
      const t0 = performance.now();
      await node.rpc('getblockcount');
      rpc.push(performance.now() - t0);
      await sleep(100);
    }
  })();
  const pingLoop = (async () => {
    while (Date.now() < until) {
      ping.push(await honest.roundTrip(60_000));
      await sleep(100);
    }
  })();
  await Promise.all([rpcLoop, pingLoop]);
  clearInterval(sampler);
  return { rssGrowthMB: peak - base, rpcMs: median(rpc), pingMs: median(ping) };
}

/** `n` valid regtest headers forking from genesis (easiest bits), distinct per `tag`. */
function lowWorkChain(n: number, tag: number): BlockHeader[] {
  const out: BlockHeader[] = [];
  let prev = params.genesis.header;
  const root = new Uint8Array(32);
  new DataView(root.buffer).setUint32(0, tag, true);
  for (let i = 0; i < n; i++) {
    let nonce = 0;
    let h: BlockHeader;
    do h = new BlockHeader(4, prev.hash(), root, prev.time + 1, params.powLimitBits, nonce++);
    while (!checkProofOfWork(h.hash(), h.bits, params));
    out.push(h);
    prev = h;
  }
  return out;
}

function randomInv(): InvItem[] {
  const rnd = randomBytes(32 * MAX_INV);
  return Array.from({ length: MAX_INV }, (_, i) => ({
    type: InvType.TX,
    hash: rnd.subarray(32 * i, 32 * i + 32),
  }));
}

/** Waits until the attacker's own send buffer is small, so the flood runs at the node's pace. */
async function paced(p: RawPeer): Promise<void> {
  while (p.open && p.ws.bufferedAmount > 4_000_000) await sleep(5);
}

type Attack = (url: string, until: number, index: number) => Promise<RawPeer[]>;

/** Runs `body` on a connection (handshaken unless `raw`), reconnecting whenever the node drops
 * it, until `until`. */
async function persistent(
  url: string,
  until: number,
  body: (p: RawPeer) => Promise<void>,
  raw = false,
): Promise<RawPeer[]> {
  const used: RawPeer[] = [];
  while (Date.now() < until) {
    let p: RawPeer;
    try {
      p = await (raw ? RawPeer.connect(url) : RawPeer.handshake(url));
    } catch {
      await sleep(50);
      continue;
    }
    used.push(p);
    while (p.open && Date.now() < until) {
      await body(p);
      await paced(p);
    }
  }
  return used;
}

/** 100 kB unknown commands, random frames and oversized frames. */
async function junk(p: RawPeer): Promise<void> {
  const r = Math.random();
  if (r < 0.8) p.sendCommand('junk', randomBytes(100_000));
  else if (r < 0.9) p.sendFrame(randomBytes(1 + Math.floor(Math.random() * 10_000)));
  else p.sendOversized(MAX_MESSAGE + 1);
  await sleep(1);
}

function attacks(block: Uint8Array): Record<string, Attack> {
  let addrCounter = 0;
  return {
    inv: (url, until) => persistent(url, until, async (p) => p.send({ command: 'inv', items: randomInv() })),
    addr: (url, until) =>
      persistent(url, until, async (p) => {
        const addrs = Array.from({ length: MAX_ADDR }, () => {
          const n = addrCounter++;
          return {
            time: Math.floor(Date.now() / 1000),
            services: 1n,
            host: `${20 + (n >> 16)}.${(n >> 8) & 255}.${n & 255}.1`,
            port: 18444,
          };
        });
        p.send({ command: 'addr', addrs });
        await sleep(10);
      }),
    headers: (url, until, index) => {
      const chain = lowWorkChain(HEADER_CHAIN, index + 1);
      return persistent(url, until, async (p) => {
        for (let i = 0; i < chain.length && p.open; i += MAX_HEADERS) {
          p.send({ command: 'headers', headers: chain.slice(i, i + MAX_HEADERS) });
          await paced(p);
        }
        await sleep(50);
      });
    },
    reader: async (url, until) => {
      const p = await RawPeer.handshake(url);
      p.stopReading();
      const item: InvItem = { type: InvType.BLOCK, hash: block };
      for (let i = 0; i < 10; i++)
        p.send({ command: 'getdata', items: Array.from({ length: 100 }, () => item) });
      await sleep(until - Date.now());
      return [p];
    },
    junk: (url, until) => persistent(url, until, junk),
    // The same junk from connections that never send a version.
    prejunk: (url, until) => persistent(url, until, junk, true),
  };
}

interface AttackData {
  role: 'p2p-flood-attacker';
  name: string;
  url: string;
  attackers: number;
  until: number;
  block: Uint8Array;
}

/** In a worker thread: the attackers' own work (building 50,000-item invs) never delays the
 * measuring thread's RPC calls and pings. */
async function attackInWorker(d: AttackData): Promise<void> {
  const attack = attacks(d.block)[d.name];
  const peers = (
    await Promise.all(Array.from({ length: d.attackers }, (_, i) => attack(d.url, d.until, i)))
  ).flat();
  for (const p of peers) p.terminate();
  parentPort!.postMessage({ connections: peers.length });
}

function runAttack(d: Omit<AttackData, 'role'>): Promise<number> {
  return new Promise((resolve, reject) => {
    const w = new Worker(fileURLToPath(import.meta.url), {
      workerData: { role: 'p2p-flood-attacker', ...d } satisfies AttackData,
    });
    w.once('message', (m: { connections: number }) => {
      resolve(m.connections);
      void w.terminate();
    });
    w.once('error', reject);
  });
}

export async function run(args: string[]): Promise<void> {
  const attackers = Number(arg(args, 'attackers', '4'));
  const seconds = Number(arg(args, 'seconds', '10'));
  const floods = arg(args, 'floods', 'inv,addr,headers,reader,junk,prejunk').split(',');
  const profDir = arg(args, 'cpu-prof', '');
  const builds = arg(args, 'tally', '')
    .split(',')
    .filter((t) => t !== '');
  const names = Object.keys(attacks(new Uint8Array(32)));
  for (const name of floods)
    if (!names.includes(name)) throw new Error(`unknown flood ${name}: ${names.join(', ')}`);
  console.log(
    `p2p-flood: load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')} at start`,
  );
  for (const tally of builds.length > 0 ? builds : ['']) {
    await runOnce({ attackers, seconds, floods, profDir, tally });
  }
  console.log(
    `p2p-flood: load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')} at the end`,
  );
}

interface RunOptions {
  attackers: number;
  seconds: number;
  floods: string[];
  profDir: string;
  /** Another build's cli/main.js to run instead of this one's ('' for this one). */
  tally: string;
}

async function runOnce(o: RunOptions): Promise<void> {
  const { attackers, seconds } = o;
  const datadir = mkdtempSync(join(tmpdir(), 'tally-bench-flood-'));
  // connect=0: the node dials nobody, so the public addresses of the addr flood are never tried.
  writeFileSync(join(datadir, 'tally.conf'), `[regtest]\nconnect=0\n`);
  try {
    // The node's own `node` gets the flags: `sh -c 'exec "$0" FLAGS "$@"' node tally …`; with
    // --tally the first argument (this build's main.js) is replaced by the other build's.
    const flags = o.profDir ? `--cpu-prof --cpu-prof-dir=${o.profDir}` : '';
    const script = o.tally
      ? `n="$0"; shift; exec "$n" ${flags} ${JSON.stringify(o.tally)} "$@"`
      : `exec "$0" ${flags} "$@"`;
    const wrap = flags || o.tally ? { prefix: ['sh', '-c', script], root: '/' } : undefined;
    const node = await startNode({ datadir, wrap });
    const builder = new Builder(params);
    const block = bigBlock(builder, params);
    await node.rpc('submitblock', [bytesToHex(block.encode())]);
    await mine(node, NODE_BLOCKS, PAY);
    const ibd = (await node.rpc<{ initialblockdownload: boolean }>('getblockchaininfo')).initialblockdownload;
    if (ibd) throw new Error('the node is still in initial block download');
    const honest = await RawPeer.handshake(node.p2pUrl, { version: { userAgent: '/honest/' } });
    console.log(
      `p2p-flood (${o.tally || 'this build'}): ${attackers} attackers per flood, ${seconds} s quiet then ` +
        `${seconds} s flooded; node pid ${node.pid}, ${NODE_BLOCKS + 1} blocks, out of initial download, ` +
        `RSS ${rssMB(node.pid).toFixed(0)} MB at start`,
    );
    console.log(
      'flood    | RSS growth quiet / flood (per attacker) MB | RPC p50 quiet / flood ms (x) | honest ping p50 quiet / flood ms (x)',
    );
    for (const name of o.floods) {
      const base = rssMB(node.pid);
      const quiet = await measure(node, honest, seconds * 1000, base);
      const base2 = rssMB(node.pid);
      const until = Date.now() + seconds * 1000;
      const running = runAttack({ name, url: node.p2pUrl, attackers, until, block: block.hash() });
      const flooded = await measure(node, honest, seconds * 1000, base2);
      const connections = await running;
      if (node.child?.exitCode !== null) throw new Error(`the node exited during the ${name} flood`);
      const x = (a: number, b: number) => (b / a).toFixed(2);
      console.log(
        `${name.padEnd(8)} | ${quiet.rssGrowthMB.toFixed(1)} / ${flooded.rssGrowthMB.toFixed(1)} ` +
          `(${(flooded.rssGrowthMB / attackers).toFixed(1)}) | ${quiet.rpcMs.toFixed(1)} / ${flooded.rpcMs.toFixed(1)} ` +
          `(${x(quiet.rpcMs, flooded.rpcMs)}) | ${quiet.pingMs.toFixed(1)} / ${flooded.pingMs.toFixed(1)} ` +
          `(${x(quiet.pingMs, flooded.pingMs)}) | ${connections} connections`,
      );
      await sleep(2_000);
    }
    console.log(
      `RSS at the end ${rssMB(node.pid).toFixed(0)} MB; honest peer still connected: ${!honest.closed}`,
    );
    honest.terminate();
  } finally {
    await stopAll();
    rmSync(datadir, { recursive: true, force: true });
  }
}

if (!isMainThread && (workerData as AttackData | undefined)?.role === 'p2p-flood-attacker') {
  void attackInWorker(workerData as AttackData);
}

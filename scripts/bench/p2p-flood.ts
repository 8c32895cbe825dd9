// `npm run bench -- p2p-flood [--attackers N] [--rate MB/s] [--seconds S] [--rounds R] [--floods ...]
// [--cpu-prof DIR] [--tally A.js,B.js]`: floods a real `tally node` (regtest, dialling nobody, out of
// initial block download: HEADER_CHAIN + 200 blocks mined first) with N raw attackers (default 4)
// per flood: inv (50,000 random txids per message), addr (1,000 public addresses per message),
// headers (low-work chains of 2,000-header messages forking from genesis, shorter than the node's
// chain less Core's 144-block buffer, so pre-sync never stores them), reader (never reads, asks for
// a 1 MB block 1,000 times), junk (random frames, oversized frames and 100 kB unknown commands,
// reconnecting when dropped), prejunk (the same from connections that never send a version),
// banned (connections from a banned address, each sending an oversized frame at once).
// Each flood gets a fresh node per build (a copy of a data directory mined once per build), so
// no flood runs on what an earlier one left. R rounds (default 3) of S seconds quiet (no attacker)
// then S seconds flooded (default 5 each); with several builds their nodes are up together and
// each round rotates which build goes first, so load drift and order fall on every build alike.
// The attackers run in a worker thread and build their messages cheaply (a template's bytes
// changed in place), so their own CPU takes as little as possible from the node on a small machine,
// and each sends at most --rate MB a second (default 10, 80 Mbit/s; 0: as fast as the node reads),
// so the offered load is the same whatever CPU the attackers get.
// Printed per flood and build: peak RSS growth (the largest round; total and per attacker), RPC
// (getblockcount) p50 and an honest peer's ping p50 over all rounds' samples, quiet beside flooded,
// their ratio, and each round's RPC ratio. Goal (issue 11): RSS growth under 50 MB per attacker,
// honest latency within 2x of quiet. --cpu-prof DIR runs the nodes under `node --cpu-prof` (a
// .cpuprofile in DIR once each stops). --tally gives each build's cli/main.js (a before/after in
// one run).
import { randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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
  encodeMessage,
  frame,
  type InvItem,
} from '../../src/p2p/messages.js';
import { encodeAddress } from '../../src/primitives/address.js';
import { BlockHeader } from '../../src/primitives/block.js';
import { bytesToHex } from '../../src/primitives/bytes.js';
import { Builder } from '../../test/chain/builder.js';
import { mine, startNode, type TallyProcess } from '../../test/integration/cluster.js';
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

/** The address the `banned` flood connects from (127/8 is all loopback), banned on each node. */
const BANNED = '127.0.0.2';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]): number => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
};

interface Figures {
  rssGrowthMB: number;
  /** Every RPC round trip and honest ping of the window, ms. */
  rpc: number[];
  ping: number[];
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
  return { rssGrowthMB: peak - base, rpc, ping };
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

/**
 * 50,000 random txids per message, cheaply: one random inv encoded once, and before each send a
 * fresh 8-byte counter written over the start of every hash, so no two messages share a txid.
 */
function invFlood(): () => Uint8Array {
  const rnd = randomBytes(32 * MAX_INV);
  const items = Array.from({ length: MAX_INV }, (_, i) => ({
    type: InvType.TX,
    hash: rnd.subarray(32 * i, 32 * i + 32),
  }));
  const msg = encodeMessage({ command: 'inv', items });
  const view = new DataView(msg.buffer, msg.byteOffset, msg.byteLength);
  // 12-byte command, 3-byte CompactSize count, then 36-byte entries (4-byte type, 32-byte hash).
  const first = 12 + 3 + 4;
  let counter = randomBytes(8).readBigUInt64LE();
  return () => {
    counter++;
    for (let i = 0; i < MAX_INV; i++) view.setBigUint64(first + 36 * i, counter, true);
    return msg;
  };
}

/** 4 MB of random bytes that junk frames are cut from (no randomBytes call per message). */
const JUNK_POOL = randomBytes(4_000_000);
const junkBytes = (n: number): Uint8Array => {
  const at = Math.floor(Math.random() * (JUNK_POOL.length - n));
  return JUNK_POOL.subarray(at, at + n);
};

/** Waits until the attacker's own send buffer is small, so the flood runs at the node's pace. */
async function paced(p: RawPeer): Promise<void> {
  while (p.open && p.ws.bufferedAmount > 4_000_000) await sleep(5);
}

type Attack = (url: string, until: number, index: number) => Promise<RawPeer[]>;

/** Bytes per second each attacker may send (0: as fast as the node reads); set in the worker. */
let attackRate = 0;

/**
 * Runs `body` on a connection (handshaken unless `raw`), reconnecting whenever the node drops it,
 * until `until`, sending at most `attackRate` bytes a second over all its connections: the same
 * offered load whatever CPU the attackers get, so runs and builds compare.
 */
async function persistent(
  url: string,
  until: number,
  body: (p: RawPeer) => Promise<void>,
  raw = false,
): Promise<RawPeer[]> {
  const used: RawPeer[] = [];
  const t0 = performance.now();
  let sent = 0;
  while (Date.now() < until) {
    let p: RawPeer;
    try {
      p = await (raw ? RawPeer.connect(url) : RawPeer.handshake(url));
    } catch {
      await sleep(50);
      continue;
    }
    used.push(p);
    const send = p.sendFrame.bind(p);
    p.sendFrame = (data: Uint8Array) => {
      sent += data.length;
      send(data);
    };
    while (p.open && Date.now() < until) {
      await body(p);
      await paced(p);
      const wait = attackRate > 0 ? t0 + (sent / attackRate) * 1000 - performance.now() : 0;
      if (wait > 0) await sleep(Math.min(wait, until - Date.now()));
    }
  }
  return used;
}

/** 100 kB unknown commands, random frames and oversized frames. */
async function junk(p: RawPeer): Promise<void> {
  const r = Math.random();
  if (r < 0.8) p.sendFrame(frame('junk', junkBytes(100_000)));
  else if (r < 0.9) p.sendFrame(junkBytes(1 + Math.floor(Math.random() * 10_000)));
  else p.sendOversized(MAX_MESSAGE + 1);
  await sleep(1);
}

function attacks(block: Uint8Array): Record<string, Attack> {
  let addrCounter = 0;
  return {
    inv: (url, until) => {
      const next = invFlood();
      // ws copies a frame while masking it (a client's frames are masked), so the template may change.
      return persistent(url, until, async (p) => p.sendFrame(next()));
    },
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
      const messages: Uint8Array[] = [];
      for (let i = 0; i < chain.length; i += MAX_HEADERS)
        messages.push(encodeMessage({ command: 'headers', headers: chain.slice(i, i + MAX_HEADERS) }));
      return persistent(url, until, async (p) => {
        for (const m of messages) {
          if (!p.open) break;
          p.sendFrame(m);
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
    // Connections from a banned address (the bench bans 127.0.0.2 first), each sending an
    // oversized frame as soon as it may: refused at the HTTP upgrade, or before 6731132 upgraded
    // and then closed with 1008.
    banned: async (url, until) => {
      let n = 0;
      while (Date.now() < until) {
        n++;
        try {
          const p = await RawPeer.connect(url, { localAddress: BANNED });
          p.sendOversized();
          await p.waitClosed(Math.max(1, until - Date.now())).catch(() => undefined);
          p.terminate();
        } catch {
          // refused at the upgrade
        }
      }
      return Array.from({ length: n }, () => ({ terminate: () => {} }) as unknown as RawPeer);
    },
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
  /** MB a second per attacker (0: unlimited). */
  rate: number;
}

/** In a worker thread: the attackers' own work (building 50,000-item invs) never delays the
 * measuring thread's RPC calls and pings. */
async function attackInWorker(d: AttackData): Promise<void> {
  attackRate = d.rate * 1e6;
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
  const seconds = Number(arg(args, 'seconds', '5'));
  const rounds = Number(arg(args, 'rounds', '3'));
  const rate = Number(arg(args, 'rate', '10'));
  const floods = arg(args, 'floods', 'inv,addr,headers,reader,junk,prejunk,banned').split(',');
  const profDir = arg(args, 'cpu-prof', '');
  const given = arg(args, 'tally', '')
    .split(',')
    .filter((t) => t !== '');
  const builds = given.length > 0 ? given : [''];
  const names = Object.keys(attacks(new Uint8Array(32)));
  for (const name of floods)
    if (!names.includes(name)) throw new Error(`unknown flood ${name}: ${names.join(', ')}`);
  const load = () =>
    loadavg()
      .map((l) => l.toFixed(1))
      .join(' ');
  console.log(`p2p-flood: load average ${load()} at start`);
  const templates: Template[] = [];
  try {
    for (const tally of builds) templates.push(await prepare(tally, profDir));
    console.log(
      `p2p-flood: ${attackers} attackers per flood sending at most ${rate || 'unlimited'} MB/s each, ${rounds} rounds of ${seconds} s quiet then ${seconds} s ` +
        `flooded, a fresh node per flood and build (${NODE_BLOCKS + 1} blocks, out of initial download)`,
    );
    console.log(
      'flood    | build | RSS growth flooded MB (per attacker) | RPC p50 quiet / flood ms (x) [per round] | ' +
        'honest ping p50 quiet / flood ms (x) | connections | MB read per round | load',
    );
    for (const name of floods) await floodAll(name, templates, { attackers, seconds, rounds, rate });
  } finally {
    for (const t of templates) rmSync(t.datadir, { recursive: true, force: true });
  }
  console.log(`p2p-flood: load average ${load()} at the end`);
}

/** A build and a data directory holding its mined chain, copied for each flood's fresh node. */
interface Template {
  label: string;
  wrap?: { prefix: string[]; root: string };
  datadir: string;
  block: Uint8Array;
}

/** Mines the chain once for a build (`tally`: another build's cli/main.js, '' for this one). */
async function prepare(tally: string, profDir: string): Promise<Template> {
  const datadir = mkdtempSync(join(tmpdir(), 'tally-bench-flood-'));
  // connect=0: the node dials nobody, so the public addresses of the addr flood are never tried.
  writeFileSync(join(datadir, 'tally.conf'), `[regtest]\nconnect=0\n`);
  // The node's own `node` gets the flags: `sh -c 'exec "$0" FLAGS "$@"' node tally …`; with
  // --tally the first argument (this build's main.js) is replaced by the other build's.
  const flags = profDir ? `--cpu-prof --cpu-prof-dir=${profDir}` : '';
  const script = tally
    ? `n="$0"; shift; exec "$n" ${flags} ${JSON.stringify(tally)} "$@"`
    : `exec "$0" ${flags} "$@"`;
  const wrap = flags || tally ? { prefix: ['sh', '-c', script], root: '/' } : undefined;
  const node = await startNode({ datadir, wrap });
  try {
    const block = bigBlock(new Builder(params), params);
    await node.rpc('submitblock', [bytesToHex(block.encode())]);
    await mine(node, NODE_BLOCKS, PAY);
    return { label: tally || 'this build', wrap, datadir, block: block.hash() };
  } finally {
    await node.stop();
  }
}

interface Subject {
  t: Template;
  node: TallyProcess;
  honest: RawPeer;
  datadir: string;
  quiet: Figures[];
  flooded: Figures[];
  connections: number;
  /** MB the node read from all peers while flooded (getnettotals), over all rounds. */
  readMB: number;
}

async function bytesRecv(node: TallyProcess): Promise<number> {
  return (await node.rpc<{ totalbytesrecv: number }>('getnettotals')).totalbytesrecv;
}

/** A fresh node from the template's copy, out of initial download, with an honest peer. */
async function fresh(t: Template): Promise<Subject> {
  const datadir = mkdtempSync(join(tmpdir(), 'tally-bench-flood-'));
  cpSync(t.datadir, datadir, { recursive: true });
  const node = await startNode({ datadir, wrap: t.wrap });
  const ibd = (await node.rpc<{ initialblockdownload: boolean }>('getblockchaininfo')).initialblockdownload;
  if (ibd) throw new Error('the node is still in initial block download');
  const honest = await RawPeer.handshake(node.p2pUrl, { version: { userAgent: '/honest/' } });
  await node.rpc('setban', [BANNED, 'add', 86_400]);
  return { t, node, honest, datadir, quiet: [], flooded: [], connections: 0, readMB: 0 };
}

/** One flood on a fresh node per build: rounds of quiet then flooded, builds in rotating order. */
async function floodAll(
  name: string,
  templates: Template[],
  o: { attackers: number; seconds: number; rounds: number; rate: number },
): Promise<void> {
  const subjects: Subject[] = [];
  try {
    for (const t of templates) subjects.push(await fresh(t));
    for (let r = 0; r < o.rounds; r++) {
      for (let k = 0; k < subjects.length; k++) {
        const s = subjects[(r + k) % subjects.length];
        const base = rssMB(s.node.pid);
        s.quiet.push(await measure(s.node, s.honest, o.seconds * 1000, base));
        const recv0 = await bytesRecv(s.node);
        const base2 = rssMB(s.node.pid);
        const until = Date.now() + o.seconds * 1000;
        const running = runAttack({
          name,
          url: s.node.p2pUrl,
          attackers: o.attackers,
          until,
          block: s.t.block,
          rate: o.rate,
        });
        s.flooded.push(await measure(s.node, s.honest, o.seconds * 1000, base2));
        s.connections += await running;
        s.readMB += ((await bytesRecv(s.node)) - recv0) / 1e6;
        if (s.node.child?.exitCode !== null) throw new Error(`the node exited during the ${name} flood`);
        if (s.honest.closed) throw new Error(`the honest peer was dropped during the ${name} flood`);
      }
    }
    for (const s of subjects) report(name, s, o.attackers);
  } finally {
    for (const s of subjects) {
      s.honest.terminate();
      await s.node.stop();
      rmSync(s.datadir, { recursive: true, force: true });
    }
  }
}

function report(name: string, s: Subject, attackers: number): void {
  const pooled = (fs: Figures[], k: 'rpc' | 'ping') => median(fs.flatMap((f) => f[k]));
  const x = (a: number, b: number) => (b / a).toFixed(2);
  const rpcQ = pooled(s.quiet, 'rpc');
  const rpcF = pooled(s.flooded, 'rpc');
  const pingQ = pooled(s.quiet, 'ping');
  const pingF = pooled(s.flooded, 'ping');
  const rss = Math.max(...s.flooded.map((f) => f.rssGrowthMB));
  const perRound = s.quiet.map((q, i) => x(median(q.rpc), median(s.flooded[i].rpc))).join(' ');
  console.log(
    `${name.padEnd(8)} | ${s.t.label} | ${rss.toFixed(1)} (${(rss / attackers).toFixed(1)}) | ` +
      `${rpcQ.toFixed(2)} / ${rpcF.toFixed(2)} (${x(rpcQ, rpcF)}) [${perRound}] | ` +
      `${pingQ.toFixed(1)} / ${pingF.toFixed(1)} (${x(pingQ, pingF)}) | ${s.connections} | ` +
      `${(s.readMB / s.flooded.length).toFixed(0)} | ` +
      `${loadavg()[0].toFixed(1)}`,
  );
}

if (!isMainThread && (workerData as AttackData | undefined)?.role === 'p2p-flood-attacker') {
  void attackInWorker(workerData as AttackData);
}

// `npm run bench -- primitives [--ms N]`: block decoding, txids and merkle root of mainnet block
// 413567 (1557 txs); double SHA-256 per backend (node:crypto's createHash and hash(), noble, the one
// chosen: the native addon when built) at 32, 64 and 250 bytes; ECDSA verification through
// verifyDer on libsecp256k1 and noble beside the raw libsecp256k1 binding. Every figure is printed
// beside a reference measured in the same run, with the ratio.
import { createHash, hash as oneShotHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { nativeHashStatus, sha256d } from '../../src/crypto/hash.js';
import {
  type EcdsaBackend,
  nativeBackend,
  nobleBackend,
  publicKeyFromPrivate,
  signDer,
  verifyDer,
} from '../../src/crypto/secp256k1.js';
import { Block } from '../../src/primitives/block.js';
import { readVector } from '../../test/vectors.js';

interface Rate {
  perSec: number;
  msPerOp: number;
}

interface Candidate {
  label: string;
  /** Does `ops` operations per call. */
  fn: () => void;
  ops?: number;
}

const ROUNDS = 9;

/**
 * Measures the candidates in interleaved rounds (round robin, `ms / ROUNDS` each) and keeps each
 * one's median round: the dev machine is shared, and load that drifts during a run then hits every
 * candidate alike instead of skewing the ratio between them.
 */
function compare(cands: Candidate[], ms: number): Rate[] {
  const slice = ms / ROUNDS;
  const rounds: number[][] = cands.map(() => []);
  for (const c of cands) {
    const warmEnd = performance.now() + Math.min(100, slice);
    while (performance.now() < warmEnd) c.fn();
  }
  for (let r = 0; r < ROUNDS; r++) {
    cands.forEach((c, k) => {
      let calls = 0;
      const start = performance.now();
      let now = start;
      while (now - start < slice) {
        c.fn();
        calls++;
        now = performance.now();
      }
      rounds[k].push((calls * (c.ops ?? 1) * 1000) / (now - start));
    });
  }
  return rounds.map((xs) => {
    const perSec = xs.sort((a, b) => a - b)[ROUNDS >> 1];
    return { perSec, msPerOp: 1000 / perSec };
  });
}

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
const ratio = (a: Rate, ref: Rate): string => `${(a.perSec / ref.perSec).toFixed(2)}x`;

/** Prints each candidate; the first is the reference the others are compared with. */
function report(cands: Candidate[], rates: Rate[], unit: string, perOp?: { n: number; unit: string }): void {
  cands.forEach((c, k) => {
    const r = rates[k];
    const rel = k === 0 ? '(reference)' : `(${ratio(r, rates[0])} of reference)`;
    const extra = perOp ? ` ${r.msPerOp.toFixed(2).padStart(7)} ${perOp.unit}` : '';
    const rate = perOp ? r.perSec * perOp.n : r.perSec;
    console.log(`  ${c.label.padEnd(46)}${extra} ${fmt(rate).padStart(10)} ${unit}  ${rel}`);
  });
}

function benchBlock(ms: number): void {
  const raw = readVector('bitcoin-core', 'block413567.raw');
  const probe = Block.decode(raw);
  const n = probe.txs.length;
  console.log(`block 413567: ${fmt(raw.length)} bytes, ${n} txs`);
  const txBytes = probe.txs.map((t) => t.encode());
  const cands: Candidate[] = [
    { label: 'node:crypto sha256d of every tx, nothing else', fn: () => txBytes.forEach(nodeSha256d) },
    { label: 'Block.decode', fn: () => Block.decode(raw) },
    {
      label: 'Block.decode + txids + merkle root',
      fn: () => {
        const b = Block.decode(raw);
        for (const t of b.txs) t.txid();
        b.merkle();
      },
    },
  ];
  report(cands, compare(cands, ms), 'tx/s', { n, unit: 'ms/block' });
}

function nodeSha256d(d: Uint8Array): Buffer {
  return createHash('sha256').update(createHash('sha256').update(d).digest()).digest();
}

function benchHashes(ms: number): void {
  console.log('sha256d (double SHA-256), 100 hashes per call');
  for (const size of [32, 64, 250]) {
    const data = Uint8Array.from({ length: size }, (_, i) => (i * 7) & 0xff);
    const times = (f: () => void) => () => {
      for (let i = 0; i < 100; i++) f();
    };
    const cands: Candidate[] = [
      { label: `${size} B node:crypto`, fn: times(() => nodeSha256d(data)), ops: 100 },
      {
        label: `${size} B node:crypto hash(), twice (the fallback)`,
        fn: times(() => oneShotHash('sha256', oneShotHash('sha256', data, 'buffer'), 'buffer')),
        ops: 100,
      },
      { label: `${size} B @noble/hashes`, fn: times(() => nobleSha256(nobleSha256(data))), ops: 100 },
      {
        label: `${size} B crypto/hash sha256d (chosen: ${nativeHashStatus() === null ? 'native addon' : 'node:crypto'})`,
        fn: times(() => sha256d(data)),
        ops: 100,
      },
    ];
    report(cands, compare(cands, ms), 'hash/s');
  }
}

interface RawBinding {
  ecdsaVerify(sig64: Uint8Array, msg32: Uint8Array, pubkey: Uint8Array): boolean;
  signatureImport(der: Uint8Array): Uint8Array;
}

function benchEcdsa(ms: number): void {
  const cases = Array.from({ length: 64 }, (_, i) => {
    const sk = nobleSha256(Uint8Array.of(i, 1));
    const msg = nobleSha256(Uint8Array.of(i, 2));
    return { sig: signDer(msg, sk), msg, pub: publicKeyFromPrivate(sk, true) };
  });
  console.log(`ECDSA verify (${cases.length} distinct compressed keys, low-S DER signatures)`);
  const viaVerifyDer = (backend: EcdsaBackend): Candidate => ({
    label: `verifyDer, ${backend.name} backend`,
    fn: () => {
      for (const c of cases) if (!verifyDer(c.sig, c.msg, c.pub, backend)) throw new Error('verify failed');
    },
    ops: cases.length,
  });
  const cands: Candidate[] = [];
  try {
    const bin = createRequire(import.meta.url)('secp256k1/bindings') as RawBinding;
    const sig64 = cases.map((c) => bin.signatureImport(c.sig));
    cands.push({
      label: 'raw binding ecdsaVerify (64-byte sig)',
      fn: () => cases.forEach((c, i) => bin.ecdsaVerify(sig64[i], c.msg, c.pub)),
      ops: cases.length,
    });
  } catch {
    console.log('  libsecp256k1 binding not loadable: native figures skipped, noble is the reference');
  }
  if (nativeBackend) cands.push(viaVerifyDer(nativeBackend));
  cands.push(viaVerifyDer(nobleBackend));
  report(cands, compare(cands, ms), 'verify/s');
}

export async function run(args: string[]): Promise<void> {
  const i = args.indexOf('--ms');
  const ms = i >= 0 ? Number(args[i + 1]) : 1500;
  if (!(ms > 0)) throw new Error('--ms needs a positive number of milliseconds');
  console.log(`primitives benchmark, ${ms} ms per figure, node ${process.version}`);
  benchBlock(ms);
  benchHashes(ms);
  benchEcdsa(ms);
}

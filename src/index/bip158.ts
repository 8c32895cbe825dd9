// BIP158 basic block filters: the Golomb-coded set of a block's output scripts and the scripts
// its inputs spend, and the filter-header chain. Pure: block data in, bytes out. Rules, from the
// BIP: items are the non-empty output scripts that are not OP_RETURN, plus every spent output's
// script (coinbase inputs excepted), without duplicates; each is hashed with SipHash-2-4 keyed
// by the first 16 bytes of the block hash and mapped to [0, N*M) (M = 784931); the sorted values'
// differences are Golomb-Rice coded with P = 19; the filter is CompactSize(N) and the bits. The
// filter header is sha256d(sha256d(filter) || previous header), zero before genesis.
import { sha256d } from '../crypto/hash.js';

export const BASIC_FILTER_P = 19;
export const BASIC_FILTER_M = 784931n;

const MASK64 = (1n << 64n) - 1n;
const rotl = (x: bigint, b: bigint) => ((x << b) | (x >> (64n - b))) & MASK64;

function readU64(b: Uint8Array, off: number): bigint {
  let v = 0n;
  for (let i = 7; i >= 0; i--) v = (v << 8n) | BigInt(b[off + i]);
  return v;
}

/** SipHash-2-4 of `data` under the 128-bit key (k0, k1). */
export function siphash24(k0: bigint, k1: bigint, data: Uint8Array): bigint {
  let v0 = 0x736f6d6570736575n ^ k0;
  let v1 = 0x646f72616e646f6dn ^ k1;
  let v2 = 0x6c7967656e657261n ^ k0;
  let v3 = 0x7465646279746573n ^ k1;
  const round = () => {
    v0 = (v0 + v1) & MASK64;
    v1 = rotl(v1, 13n) ^ v0;
    v0 = rotl(v0, 32n);
    v2 = (v2 + v3) & MASK64;
    v3 = rotl(v3, 16n) ^ v2;
    v0 = (v0 + v3) & MASK64;
    v3 = rotl(v3, 21n) ^ v0;
    v2 = (v2 + v1) & MASK64;
    v1 = rotl(v1, 17n) ^ v2;
    v2 = rotl(v2, 32n);
  };
  const end = data.length - (data.length % 8);
  for (let i = 0; i < end; i += 8) {
    const m = readU64(data, i);
    v3 ^= m;
    round();
    round();
    v0 ^= m;
  }
  let last = BigInt(data.length & 0xff) << 56n;
  for (let i = 0; i < data.length % 8; i++) last |= BigInt(data[end + i]) << BigInt(8 * i);
  v3 ^= last;
  round();
  round();
  v0 ^= last;
  v2 ^= 0xffn;
  round();
  round();
  round();
  round();
  return v0 ^ v1 ^ v2 ^ v3;
}

class BitWriter {
  private readonly bytes: number[] = [];
  private cur = 0;
  private n = 0;
  bit(b: number): void {
    this.cur = (this.cur << 1) | b;
    if (++this.n === 8) this.flush();
  }
  bits(v: bigint, count: number): void {
    for (let i = count - 1; i >= 0; i--) this.bit(Number((v >> BigInt(i)) & 1n));
  }
  private flush(): void {
    this.bytes.push(this.cur);
    this.cur = 0;
    this.n = 0;
  }
  finish(): number[] {
    if (this.n > 0) {
      this.cur <<= 8 - this.n;
      this.flush();
    }
    return this.bytes;
  }
}

function compactSize(n: number): number[] {
  if (n < 0xfd) return [n];
  if (n <= 0xffff) return [0xfd, n & 0xff, n >> 8];
  return [0xfe, n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, (n >>> 24) & 0xff];
}

/** The basic filter's items: output scripts (not empty, not OP_RETURN) and spent scripts, deduplicated. */
export function basicFilterItems(outputScripts: Uint8Array[], spentScripts: Uint8Array[]): Uint8Array[] {
  const seen = new Set<string>();
  const out: Uint8Array[] = [];
  const add = (s: Uint8Array) => {
    const k = Buffer.from(s).toString('hex');
    if (seen.has(k)) return;
    seen.add(k);
    out.push(s);
  };
  for (const s of outputScripts) if (s.length > 0 && s[0] !== 0x6a) add(s);
  // The BIP drops empty scripts among the spent ones too (an empty data element adds nothing).
  for (const s of spentScripts) if (s.length > 0) add(s);
  return out;
}

/** The Golomb-coded set of `items` keyed by the block hash (internal byte order). */
export function buildBasicFilter(blockHash: Uint8Array, items: Uint8Array[]): Uint8Array {
  const k0 = readU64(blockHash, 0);
  const k1 = readU64(blockHash, 8);
  const n = BigInt(items.length);
  const f = n * BASIC_FILTER_M;
  const values = items
    .map((it) => (siphash24(k0, k1, it) * f) >> 64n)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const w = new BitWriter();
  let last = 0n;
  for (const v of values) {
    const delta = v - last;
    last = v;
    let q = delta >> BigInt(BASIC_FILTER_P);
    while (q > 0n) {
      w.bit(1);
      q--;
    }
    w.bit(0);
    w.bits(delta, BASIC_FILTER_P);
  }
  return Uint8Array.from([...compactSize(items.length), ...w.finish()]);
}

/** sha256d(sha256d(filter) || prevHeader), internal byte order. */
export function filterHeader(filter: Uint8Array, prevHeader: Uint8Array): Uint8Array {
  return sha256d(Uint8Array.from([...sha256d(filter), ...prevHeader]));
}

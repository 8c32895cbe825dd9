// Bitcoin Core v29's UTXO snapshot file (node/utxo_snapshot.h, dumptxoutset/loadtxoutset): the
// metadata (magic 'utxo' 0xff, u16 version 2, the network's 4-byte magic, the base block's hash,
// u64 coin count), then the coins grouped by txid: txid, CompactSize count, and per coin a
// CompactSize index and Core's compact Coin (VARINT height*2+coinbase, VARINT CompressAmount of
// the value, ScriptCompression of the script: 21 bytes for P2PKH/P2SH, 33 for P2PK, else VARINT
// size+6 and the bytes). Pure: bytes in, records out. A bad file is one SnapshotError naming what
// is wrong; nothing else is thrown on any input.
import { decompressPubkey, isValidPubkey } from '../crypto/secp256k1.js';
import { BufferReader, BufferWriter, DecodeError, bytesToHex, equalBytes } from '../primitives/bytes.js';
import { OutPoint } from '../primitives/tx.js';
import type { StoredCoin } from './ports.js';

export const SNAPSHOT_MAGIC = Uint8Array.of(0x75, 0x74, 0x78, 0x6f, 0xff);
export const SNAPSHOT_VERSION = 2;
/** Bytes of the metadata. */
export const SNAPSHOT_METADATA_SIZE = 5 + 2 + 4 + 32 + 8;
/** Core's MAX_SCRIPT_SIZE: a longer script is stored as OP_RETURN when read (ScriptCompression). */
const MAX_SCRIPT_SIZE = 10_000;

export class SnapshotError extends Error {
  override readonly name = 'SnapshotError';
}

export interface SnapshotMetadata {
  networkMagic: Uint8Array;
  /** Internal byte order. */
  baseHash: Uint8Array;
  coinsCount: bigint;
}

// ---- Core's VARINT (serialize.h): base 128, most significant group first, each continuation
// group one less than its value so every number has one encoding.

export function writeVarInt(w: BufferWriter, n: bigint): void {
  const groups: number[] = [];
  for (let first = true; ; first = false) {
    groups.push(Number(n & 0x7fn) | (first ? 0 : 0x80));
    if (n <= 0x7fn) break;
    n = (n >> 7n) - 1n;
  }
  for (let i = groups.length - 1; i >= 0; i--) w.u8(groups[i]);
}

export function readVarInt(r: BufferReader, field: string): bigint {
  let n = 0n;
  for (;;) {
    if (n > 0xffffffffffffffffn >> 7n) throw new SnapshotError(`${field}: VARINT too large`);
    const ch = r.u8(field);
    n = (n << 7n) | BigInt(ch & 0x7f);
    if ((ch & 0x80) === 0) return n;
    n++;
  }
}

// ---- Core's amount compression (compressor.cpp).

export function compressAmount(n: bigint): bigint {
  if (n === 0n) return 0n;
  let e = 0n;
  while (n % 10n === 0n && e < 9n) {
    n /= 10n;
    e++;
  }
  if (e < 9n) {
    const d = n % 10n;
    n /= 10n;
    return 1n + (n * 9n + d - 1n) * 10n + e;
  }
  return 1n + (n - 1n) * 10n + 9n;
}

export function decompressAmount(x: bigint): bigint {
  if (x === 0n) return 0n;
  x--;
  let e = x % 10n;
  x /= 10n;
  let n: bigint;
  if (e < 9n) {
    const d = (x % 9n) + 1n;
    x /= 9n;
    n = x * 10n + d;
  } else n = x + 1n;
  for (; e > 0n; e--) n *= 10n;
  return n;
}

// ---- Core's script compression.

function writeScript(w: BufferWriter, s: Uint8Array): void {
  const p2pkh =
    s.length === 25 && s[0] === 0x76 && s[1] === 0xa9 && s[2] === 20 && s[23] === 0x88 && s[24] === 0xac;
  const p2sh = s.length === 23 && s[0] === 0xa9 && s[1] === 20 && s[22] === 0x87;
  const p2pkC = s.length === 35 && s[0] === 33 && s[34] === 0xac && (s[1] === 2 || s[1] === 3);
  const p2pkU =
    s.length === 67 && s[0] === 65 && s[66] === 0xac && s[1] === 4 && isValidPubkey(s.subarray(1, 66));
  if (p2pkh) w.u8(0).bytes(s.subarray(3, 23));
  else if (p2sh) w.u8(1).bytes(s.subarray(2, 22));
  else if (p2pkC) w.bytes(s.subarray(1, 34));
  else if (p2pkU) w.u8(4 | (s[65] & 1)).bytes(s.subarray(2, 34));
  else {
    writeVarInt(w, BigInt(s.length + 6));
    w.bytes(s);
  }
}

function readScript(r: BufferReader): Uint8Array {
  const size = readVarInt(r, 'script size');
  if (size === 0n) return Uint8Array.of(0x76, 0xa9, 20, ...r.bytes(20, 'script'), 0x88, 0xac);
  if (size === 1n) return Uint8Array.of(0xa9, 20, ...r.bytes(20, 'script'), 0x87);
  if (size === 2n || size === 3n) return Uint8Array.of(33, Number(size), ...r.bytes(32, 'script'), 0xac);
  if (size === 4n || size === 5n) {
    const x = r.bytes(32, 'script');
    const full = decompressPubkey(Uint8Array.of(Number(size) - 2, ...x));
    if (full === null) throw new SnapshotError('script: compressed public key is not on the curve');
    return Uint8Array.of(65, ...full, 0xac);
  }
  const len = size - 6n;
  if (len > BigInt(MAX_SCRIPT_SIZE)) {
    // Core skips the bytes and keeps an unspendable OP_RETURN in their place.
    r.bytes(Number(len), 'script');
    return Uint8Array.of(0x6a);
  }
  return r.bytes(Number(len), 'script').slice();
}

/** Core's Coin serialization (coins.h). */
export function writeCompactCoin(w: BufferWriter, c: StoredCoin): void {
  writeVarInt(w, BigInt(c.height) * 2n + (c.coinbase ? 1n : 0n));
  writeVarInt(w, compressAmount(c.value));
  writeScript(w, c.script);
}

export function readCompactCoin(r: BufferReader): StoredCoin {
  const code = readVarInt(r, 'coin height');
  if (code >> 1n > 0x7fffffffn) throw new SnapshotError('coin height: out of range');
  const value = decompressAmount(readVarInt(r, 'coin amount'));
  if (value > 0x7fffffffffffffffn) throw new SnapshotError('coin amount: out of range');
  return { height: Number(code >> 1n), coinbase: (code & 1n) === 1n, value, script: readScript(r) };
}

export function writeSnapshotMetadata(m: SnapshotMetadata): Uint8Array {
  return new BufferWriter(SNAPSHOT_METADATA_SIZE)
    .bytes(SNAPSHOT_MAGIC)
    .u16(SNAPSHOT_VERSION)
    .bytes(m.networkMagic)
    .bytes(m.baseHash)
    .u64(m.coinsCount)
    .finish();
}

/** Reads and checks the metadata as Core's SnapshotMetadata::Unserialize, for this network. */
export function readSnapshotMetadata(r: BufferReader, networkMagic: Uint8Array): SnapshotMetadata {
  const magic = wrap(() => r.bytes(5, 'magic'));
  if (!equalBytes(magic, SNAPSHOT_MAGIC))
    throw new SnapshotError(
      'Invalid UTXO set snapshot magic bytes. Please check if this is indeed a snapshot file or if you are using an outdated snapshot format.',
    );
  const version = wrap(() => r.u16('version'));
  if (version !== SNAPSHOT_VERSION)
    throw new SnapshotError(`Version of snapshot ${version} does not match any of the supported versions.`);
  const magicOfFile = wrap(() => r.copy(4, 'network magic'));
  if (!equalBytes(magicOfFile, networkMagic))
    throw new SnapshotError(
      `The network of the snapshot (${bytesToHex(magicOfFile)}) does not match the network of this node (${bytesToHex(networkMagic)}).`,
    );
  const baseHash = wrap(() => r.copy(32, 'base blockhash'));
  const coinsCount = wrap(() => r.u64('coins count'));
  return { networkMagic: magicOfFile, baseHash, coinsCount };
}

function wrap<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof DecodeError) throw new SnapshotError(e.message);
    throw e;
  }
}

/** A whole snapshot file (the reader behind tests and checks): its metadata and every coin. */
export function decodeSnapshot(
  data: Uint8Array,
  networkMagic: Uint8Array,
): { metadata: SnapshotMetadata; coins: [OutPoint, StoredCoin][] } {
  const r = new BufferReader(data);
  const metadata = readSnapshotMetadata(r, networkMagic);
  const coins: [OutPoint, StoredCoin][] = [];
  wrap(() => {
    while (BigInt(coins.length) < metadata.coinsCount) {
      const txid = r.copy(32, 'txid');
      const n = r.varint('coins per txid', 0xffffffff);
      if (n === 0 || BigInt(coins.length + n) > metadata.coinsCount)
        throw new SnapshotError(`txid ${bytesToHex(txid)}: ${n} coins do not fit the count`);
      for (let i = 0; i < n; i++) {
        const index = r.varint('vout', 0xffffffff);
        coins.push([new OutPoint(txid, index), readCompactCoin(r)]);
      }
    }
    if (r.remaining !== 0) throw new SnapshotError(`${r.remaining} bytes after the last coin`);
  });
  return { metadata, coins };
}

/** The coins of one txid in the file's layout; `coins` come in index order. */
export function writeSnapshotGroup(txid: Uint8Array, coins: [number, StoredCoin][]): Uint8Array {
  const w = new BufferWriter(64 + coins.length * 40);
  w.bytes(txid).varint(coins.length);
  for (const [n, c] of coins) {
    w.varint(n);
    writeCompactCoin(w, c);
  }
  return w.finish();
}

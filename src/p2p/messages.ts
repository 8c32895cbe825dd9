// Wire messages: one WebSocket binary message = a 12-byte NUL-padded ASCII command, then the
// payload in Bitcoin's format for that command (see docs/p2p.md for the two WebSocket adaptations
// of `version`: the network magic and the peer's listen URL ride after `relay`).
// Owns: encoding and decoding under Bitcoin Core's limits. Does not own: what a message means.
// Fails with MessageError (a DecodeError carrying the misbehaviour score the input deserves);
// an unknown but well-formed command decodes to { command: 'unknown' } so callers can ignore it.
import { Block, BlockHeader } from '../primitives/block.js';
import { BufferReader, BufferWriter, DecodeError } from '../primitives/bytes.js';
import { Tx } from '../primitives/tx.js';
import { bytesToIp, ipToBytes } from './netaddr.js';

export const COMMAND_SIZE = 12;
/** Bitcoin Core's MAX_PROTOCOL_MESSAGE_LENGTH. */
export const MAX_PAYLOAD = 4_000_000;
/** What a WebSocket frame may hold: the command plus the largest payload. */
export const MAX_MESSAGE = COMMAND_SIZE + MAX_PAYLOAD;
export const MAX_INV = 50_000;
export const MAX_HEADERS = 2_000;
export const MAX_ADDR = 1_000;
/** Bitcoin Core's MAX_LOCATOR_SZ. */
export const MAX_LOCATOR = 101;
export const MAX_USER_AGENT = 256;
export const MAX_WSURL = 256;
/**
 * What a frame may hold until the peer's version is accepted. A version message is at most 619
 * bytes (two 256-byte strings) and verack is empty; later extensions of version fit too. Core has
 * no smaller bound before the handshake (MAX_PROTOCOL_MESSAGE_LENGTH, 4,000,000, from the first
 * message), but its v1 header states the size, so a lie is refused at 24 bytes and the rest read
 * in 256 kB steps; `ws` assembles a whole frame before the node sees it. So a peer that sends
 * anything larger before its version is cut off at the frame's first bytes, unassembled.
 */
export const MAX_HANDSHAKE_MESSAGE = 4_096;

export const PROTOCOL_VERSION = 70016;
/** sendheaders (BIP130) and feefilter-era peers; older ones are refused. */
export const MIN_PEER_PROTOCOL_VERSION = 70012;
export const NODE_NETWORK = 1n;
/** BIP159: serves the last 288 blocks only (a pruned node advertises this, not NODE_NETWORK). */
export const NODE_NETWORK_LIMITED = 1024n;
/** Core's NODE_NETWORK_LIMITED_MIN_BLOCKS: how far below its tip a limited peer serves blocks. */
export const NODE_NETWORK_LIMITED_MIN_BLOCKS = 288;

/** Core's IsLimitedPeer: NODE_NETWORK_LIMITED without NODE_NETWORK (a pruned node). */
export function isLimitedPeer(services: bigint): boolean {
  return (services & NODE_NETWORK_LIMITED) !== 0n && (services & NODE_NETWORK) === 0n;
}

export const InvType = { ERROR: 0, TX: 1, BLOCK: 2 } as const;

export class MessageError extends DecodeError {
  constructor(
    reason: string,
    field: string | undefined,
    /** Misbehaviour points: 20 for a list over its limit (as Core), 100 for garbage. */
    readonly dos: number,
  ) {
    super(reason, field);
  }
}

export interface NetAddr {
  services: bigint;
  /** IP literal (IPv4 dotted or IPv6). */
  host: string;
  port: number;
}

export interface TimedNetAddr extends NetAddr {
  /** Unix seconds the address was last seen. */
  time: number;
}

export interface InvItem {
  type: number;
  /** Internal byte order. */
  hash: Uint8Array;
}

export interface VersionPayload {
  version: number;
  services: bigint;
  timestamp: bigint;
  addrRecv: NetAddr;
  /** Bitcoin's addr_from; Tally sends zeros and ignores it (the listen URL is `wsurl`). */
  addrFrom: NetAddr;
  nonce: bigint;
  userAgent: string;
  startHeight: number;
  relay: boolean;
  /** Tally extension: the sender's network magic (4 bytes). */
  magic: Uint8Array;
  /** Tally extension: where the sender accepts WebSocket connections, or '' when it does not. */
  wsurl: string;
}

export type Message =
  | ({ command: 'version' } & VersionPayload)
  | { command: 'verack' }
  | { command: 'ping'; nonce: bigint }
  | { command: 'pong'; nonce: bigint }
  | { command: 'getaddr' }
  | { command: 'addr'; addrs: TimedNetAddr[] }
  | { command: 'inv'; items: InvItem[] }
  | { command: 'getdata' | 'notfound'; items: InvItem[] }
  | { command: 'getheaders'; version: number; locator: Uint8Array[]; stop: Uint8Array }
  | { command: 'headers'; headers: BlockHeader[] }
  | { command: 'sendheaders' }
  | { command: 'block'; block: Block }
  | { command: 'tx'; tx: Tx }
  | { command: 'mempool' }
  | { command: 'unknown'; name: string; size: number };

export type Command = Exclude<Message['command'], 'unknown'>;

const EMPTY: ReadonlySet<string> = new Set(['verack', 'getaddr', 'sendheaders', 'mempool']);
const KNOWN: ReadonlySet<string> = new Set([
  'version',
  'verack',
  'ping',
  'pong',
  'getaddr',
  'addr',
  'inv',
  'getdata',
  'notfound',
  'getheaders',
  'headers',
  'sendheaders',
  'block',
  'tx',
  'mempool',
]);

/** The key of Core's per-message byte counters: a raw message's command, '*other*' when unknown. */
export function messageTypeOf(data: Uint8Array): string {
  let end = 0;
  while (end < COMMAND_SIZE && end < data.length && data[end] !== 0) end++;
  const name = String.fromCharCode(...data.subarray(0, end));
  return KNOWN.has(name) ? name : '*other*';
}

export function encodeCommand(name: string): Uint8Array {
  if (name.length === 0 || name.length > COMMAND_SIZE || !/^[\x20-\x7e]+$/.test(name)) {
    throw new RangeError(`invalid command name: ${JSON.stringify(name)}`);
  }
  const out = new Uint8Array(COMMAND_SIZE);
  for (let i = 0; i < name.length; i++) out[i] = name.charCodeAt(i);
  return out;
}

/** A whole frame from a command name and an already-encoded payload (blocks served from disk). */
export function frame(command: string, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(COMMAND_SIZE + payload.length);
  out.set(encodeCommand(command), 0);
  out.set(payload, COMMAND_SIZE);
  return out;
}

/** Core's IsCommandValid: printable ASCII, then only NULs. */
export function decodeCommand(data: Uint8Array): string {
  if (data.length < COMMAND_SIZE) throw new MessageError('message shorter than its command', 'command', 100);
  let name = '';
  let i = 0;
  for (; i < COMMAND_SIZE && data[i] !== 0; i++) {
    if (data[i] < 0x20 || data[i] > 0x7e) throw new MessageError('non-printable command', 'command', 100);
    name += String.fromCharCode(data[i]);
  }
  for (; i < COMMAND_SIZE; i++) {
    if (data[i] !== 0) throw new MessageError('command not NUL-padded', 'command', 100);
  }
  if (name.length === 0) throw new MessageError('empty command', 'command', 100);
  return name;
}

function writeNetAddr(w: BufferWriter, a: NetAddr): void {
  w.u64(a.services);
  const ip = ipToBytes(a.host);
  if (!ip) throw new RangeError(`not an IP address: ${a.host}`);
  w.bytes(ip);
  // The port is the one big-endian field in Bitcoin's messages.
  w.u8((a.port >> 8) & 0xff).u8(a.port & 0xff);
}

function readNetAddr(r: BufferReader, field: string): NetAddr {
  const services = r.u64(`${field}.services`);
  const host = bytesToIp(r.bytes(16, `${field}.ip`));
  const port = (r.u8(`${field}.port`) << 8) | r.u8(`${field}.port`);
  return { services, host, port };
}

function readCount(r: BufferReader, field: string, max: number, itemSize: number): number {
  const n = r.varint(field, Number.MAX_SAFE_INTEGER);
  if (n > max) throw new MessageError(`${n} items exceed the limit of ${max}`, field, 20);
  // A count the remaining bytes cannot hold is a truncated message: reject before allocating.
  if (n * itemSize > r.remaining) throw new MessageError('unexpected end of data', field, 100);
  return n;
}

/** Bytes of one inventory entry: a u32 type and a 32-byte hash. */
const INV_ENTRY = 36;

/**
 * An inv/getdata/notfound list read in place: entry i's type and hash are read from the message's
 * bytes when asked, so a 50,000-entry inv costs no object per entry (the relay hashes each entry
 * into the peer's known-inventory filter straight from these bytes).
 */
export class InvList {
  private readonly view: DataView;

  constructor(
    /** The bytes holding the entries, `length` × 36. */
    readonly data: Uint8Array,
    readonly length: number,
  ) {
    this.view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  }

  type(i: number): number {
    return this.view.getUint32(i * INV_ENTRY, true);
  }

  /** Offset in `data` of entry i's 32-byte hash. */
  hashOffset(i: number): number {
    return i * INV_ENTRY + 4;
  }

  /** Entry i's hash: a view into the message (copy it to keep it past the message). */
  hash(i: number): Uint8Array {
    const at = i * INV_ENTRY + 4;
    return this.data.subarray(at, at + 32);
  }

  /** Every entry as an object (for callers that are not on a hot path). */
  items(): InvItem[] {
    const out = new Array<InvItem>(this.length);
    for (let i = 0; i < this.length; i++) out[i] = { type: this.type(i), hash: this.hash(i) };
    return out;
  }
}

function readInvList(r: BufferReader, command: string): InvList {
  const n = readCount(r, `${command}.count`, MAX_INV, INV_ENTRY);
  return new InvList(r.bytes(n * INV_ENTRY, command), n);
}

/** A message as the node handles it: an `inv` read in place (see InvList). */
export type Incoming = Exclude<Message, { command: 'inv' }> | { command: 'inv'; list: InvList };

const INV_COMMAND = encodeCommand('inv');

/** As decodeMessage, but an `inv` comes as an InvList: the relay's hot path, no object per entry. */
export function decodeIncoming(data: Uint8Array): Incoming {
  const inv = data.length >= COMMAND_SIZE && INV_COMMAND.every((b, i) => data[i] === b);
  if (!inv) {
    const msg = decodeMessage(data);
    if (msg.command !== 'inv') return msg;
  }
  return { command: 'inv', list: decodeInv(data) };
}

/** Decodes an `inv` message's entries in place; throws MessageError as decodeMessage does. */
function decodeInv(data: Uint8Array): InvList {
  if (data.length > MAX_MESSAGE) throw new MessageError('message over 4,000,000 bytes', 'payload', 100);
  const r = new BufferReader(data.subarray(COMMAND_SIZE));
  try {
    const list = readInvList(r, 'inv');
    r.end('inv');
    return list;
  } catch (e) {
    if (e instanceof MessageError) throw e;
    if (e instanceof DecodeError) throw new MessageError(e.reason, e.field ?? 'inv', 100);
    throw e;
  }
}

function readString(r: BufferReader, field: string, max: number): string {
  const n = r.varint(field, Number.MAX_SAFE_INTEGER);
  if (n > max) throw new MessageError(`string of ${n} bytes exceeds ${max}`, field, 100);
  return new TextDecoder('utf-8', { fatal: false }).decode(r.bytes(n, field));
}

function writeString(w: BufferWriter, s: string): void {
  w.varBytes(new TextEncoder().encode(s));
}

export const ZERO_ADDR: NetAddr = { services: 0n, host: '0.0.0.0', port: 0 };

export function encodePayload(msg: Message): Uint8Array {
  const w = new BufferWriter(64);
  switch (msg.command) {
    case 'version':
      w.i32(msg.version).u64(msg.services).i64(msg.timestamp);
      writeNetAddr(w, msg.addrRecv);
      writeNetAddr(w, msg.addrFrom);
      w.u64(msg.nonce);
      writeString(w, msg.userAgent);
      w.i32(msg.startHeight).u8(msg.relay ? 1 : 0);
      if (msg.magic.length !== 4) throw new RangeError('magic must be 4 bytes');
      w.bytes(msg.magic);
      writeString(w, msg.wsurl);
      break;
    case 'ping':
    case 'pong':
      w.u64(msg.nonce);
      break;
    case 'addr':
      w.varint(msg.addrs.length);
      for (const a of msg.addrs) {
        w.u32(a.time);
        writeNetAddr(w, a);
      }
      break;
    case 'inv':
    case 'getdata':
    case 'notfound':
      w.varint(msg.items.length);
      for (const it of msg.items) w.u32(it.type).bytes(it.hash);
      break;
    case 'getheaders':
      w.u32(msg.version).varint(msg.locator.length);
      for (const h of msg.locator) w.bytes(h);
      w.bytes(msg.stop);
      break;
    case 'headers':
      w.varint(msg.headers.length);
      // Each header is followed by a transaction count, always zero.
      for (const h of msg.headers) w.bytes(h.encode()).u8(0);
      break;
    case 'block':
      return msg.block.encode();
    case 'tx':
      return msg.tx.encode();
    case 'verack':
    case 'getaddr':
    case 'sendheaders':
    case 'mempool':
      break;
    case 'unknown':
      throw new RangeError('cannot encode an unknown command');
  }
  return w.finish();
}

export function encodeMessage(msg: Message): Uint8Array {
  return frame(msg.command, encodePayload(msg));
}

function decodeKnown(command: Command, r: BufferReader): Message {
  switch (command) {
    case 'version': {
      const version = r.i32('version.version');
      const services = r.u64('version.services');
      const timestamp = r.i64('version.timestamp');
      const addrRecv = readNetAddr(r, 'version.addrRecv');
      const addrFrom = readNetAddr(r, 'version.addrFrom');
      const nonce = r.u64('version.nonce');
      const userAgent = readString(r, 'version.userAgent', MAX_USER_AGENT);
      const startHeight = r.i32('version.startHeight');
      const relay = r.u8('version.relay') !== 0;
      const magic = r.copy(4, 'version.magic');
      const wsurl = readString(r, 'version.wsurl', MAX_WSURL);
      // Later extensions may follow; a peer of a newer version may send them (Core ignores them too).
      r.pos = r.data.length;
      return {
        command,
        version,
        services,
        timestamp,
        addrRecv,
        addrFrom,
        nonce,
        userAgent,
        startHeight,
        relay,
        magic,
        wsurl,
      };
    }
    case 'ping':
    case 'pong':
      return { command, nonce: r.u64(`${command}.nonce`) };
    case 'addr': {
      const n = readCount(r, 'addr.count', MAX_ADDR, 30);
      const addrs: TimedNetAddr[] = [];
      for (let i = 0; i < n; i++) {
        const time = r.u32('addr.time');
        addrs.push({ time, ...readNetAddr(r, 'addr') });
      }
      return { command, addrs };
    }
    case 'inv':
    case 'getdata':
    case 'notfound':
      return { command, items: readInvList(r, command).items() };
    case 'getheaders': {
      const version = r.u32('getheaders.version');
      const n = readCount(r, 'getheaders.locator', MAX_LOCATOR, 32);
      const locator: Uint8Array[] = [];
      for (let i = 0; i < n; i++) locator.push(r.copy(32, 'getheaders.locator'));
      return { command, version, locator, stop: r.copy(32, 'getheaders.stop') };
    }
    case 'headers': {
      const n = readCount(r, 'headers.count', MAX_HEADERS, 81);
      const headers = new Array<BlockHeader>(n);
      for (let i = 0; i < n; i++) {
        headers[i] = BlockHeader.read(r);
        if (r.varint('headers.txcount') !== 0)
          throw new MessageError('header with transactions', 'headers', 100);
      }
      return { command, headers };
    }
    case 'block':
      return { command, block: Block.read(r) };
    case 'tx':
      return { command, tx: Tx.read(r) };
    case 'verack':
    case 'getaddr':
    case 'sendheaders':
    case 'mempool':
      return { command };
  }
}

/**
 * Decodes one WebSocket message. Throws MessageError for anything malformed: a bad command field,
 * a truncated or over-long payload, lists over Core's limits.
 */
export function decodeMessage(data: Uint8Array): Message {
  if (data.length > MAX_MESSAGE) throw new MessageError('message over 4,000,000 bytes', 'payload', 100);
  const name = decodeCommand(data);
  const payload = data.subarray(COMMAND_SIZE);
  if (!KNOWN.has(name)) return { command: 'unknown', name, size: payload.length };
  const command = name as Command;
  if (EMPTY.has(command) && payload.length !== 0) {
    throw new MessageError('payload on an empty message', command, 100);
  }
  const r = new BufferReader(payload);
  try {
    const msg = decodeKnown(command, r);
    r.end(command);
    return msg;
  } catch (e) {
    if (e instanceof MessageError) throw e;
    if (e instanceof DecodeError) throw new MessageError(e.reason, e.field ?? command, 100);
    throw e;
  }
}

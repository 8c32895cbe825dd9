// Output descriptors as Core prints them for an output script (InferDescriptor) and the BIP380
// descriptor checksum; reading descriptors is descriptor-parse.ts. Pure: scripts in, text out.
// With nothing known a P2PKH or P2SH output is addr(ADDRESS), a bare key pk(HEX), a bare multisig
// multi(m,HEX,…), anything else raw(HEX); with the keys and redeem scripts a scan's descriptors
// named (SigningInfo), a P2PKH of a known key is pkh(KEY) and a P2SH of a known script sh(…),
// keys with their [fingerprint/path] origin. Each is followed by #checksum.
import { hash160 } from '../crypto/hash.js';
import type { AddressPrefixes } from '../primitives/address.js';
import { scriptToAddress } from '../primitives/address.js';
import { bytesToHex } from '../primitives/bytes.js';
import { classifyScript } from '../script/standard.js';

const INPUT_CHARSET =
  '0123456789()[],\'/*abcdefgh@:$%{}IJKLMNOPQRSTUVWXYZ&+-.;<=>?!^_|~ijklmnopqrstuvwxyzABCDEFGH`#"\\ ';
const CHECKSUM_CHARSET = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';
const GENERATOR = [0xf5dee51989n, 0xa9fdca3312n, 0x1bab10e32dn, 0x3706b1677an, 0x644d626ffdn];

function polymod(c: bigint, value: number): bigint {
  const top = c >> 35n;
  c = ((c & 0x7ffffffffn) << 5n) ^ BigInt(value);
  for (let i = 0; i < 5; i++) if ((top >> BigInt(i)) & 1n) c ^= GENERATOR[i];
  return c;
}

/** BIP380's 8-character checksum of a descriptor; throws on a character outside its set. */
export function descriptorChecksum(desc: string): string {
  let c = 1n;
  let cls = 0;
  let clscount = 0;
  for (const ch of desc) {
    const pos = INPUT_CHARSET.indexOf(ch);
    if (pos === -1) throw new Error(`descriptor character ${JSON.stringify(ch)} has no checksum symbol`);
    c = polymod(c, pos & 31);
    cls = cls * 3 + (pos >> 5);
    if (++clscount === 3) {
      c = polymod(c, cls);
      cls = 0;
      clscount = 0;
    }
  }
  if (clscount > 0) c = polymod(c, cls);
  for (let i = 0; i < 8; i++) c = polymod(c, 0);
  c ^= 1n;
  let out = '';
  for (let i = 0; i < 8; i++) out += CHECKSUM_CHARSET[Number((c >> BigInt(5 * (7 - i))) & 31n)];
  return out;
}

export function withChecksum(desc: string): string {
  return `${desc}#${descriptorChecksum(desc)}`;
}

/** A descriptor that cannot be read: one line naming what is wrong (Core answers -5). */
export class DescriptorError extends Error {
  override readonly name = 'DescriptorError';
}

/**
 * Strips a descriptor's #checksum, checking it (Core's CheckChecksum, BIP380); one without a
 * checksum is accepted unless `required`.
 */
export function checkedBody(text: string, required = false): string {
  const parts = text.split('#');
  if (parts.length > 2) throw new DescriptorError("Multiple '#' symbols");
  if (parts.length === 1 && required) throw new DescriptorError('Missing checksum');
  const [body, given] = parts;
  if (given !== undefined && given.length !== 8)
    throw new DescriptorError(`Expected 8 character checksum, not ${given.length} characters`);
  let computed: string;
  try {
    computed = descriptorChecksum(body);
  } catch {
    throw new DescriptorError('Invalid characters in payload');
  }
  if (given !== undefined && computed !== given)
    throw new DescriptorError(`Provided checksum '${given}' does not match computed checksum '${computed}'`);
  return body;
}

/** A BIP32 path as descriptors print it: /1/2h (or /2' when the key was written with apostrophes). */
export function formatKeyPath(path: readonly number[], apostrophe: boolean): string {
  return path
    .map((i) => (i >= 0x80000000 ? `/${i - 0x80000000}${apostrophe ? "'" : 'h'}` : `/${i}`))
    .join('');
}

/** A public key a descriptor named, with where it came from (Core's KeyOriginInfo) when known. */
export interface KeyInfo {
  pubkey: Uint8Array;
  origin: { fingerprint: string; path: number[] } | null;
}

/** What Core's FlatSigningProvider holds for inference: keys and redeem scripts by their hash160 (hex). */
export interface SigningInfo {
  keys: Map<string, KeyInfo>;
  redeemScripts: Map<string, Uint8Array>;
}

const NOTHING_KNOWN: SigningInfo = { keys: new Map(), redeemScripts: new Map() };

/** Core's InferPubkey: a key of the right size, not hybrid (the curve is not checked); with its origin when known. */
function keyText(pubkey: Uint8Array, info: SigningInfo): string | null {
  const plain =
    (pubkey.length === 33 && (pubkey[0] === 2 || pubkey[0] === 3)) ||
    (pubkey.length === 65 && pubkey[0] === 4);
  if (!plain) return null;
  const o = info.keys.size > 0 ? info.keys.get(bytesToHex(hash160(pubkey)))?.origin : undefined;
  return (o ? `[${o.fingerprint}${formatKeyPath(o.path, false)}]` : '') + bytesToHex(pubkey);
}

function inferScript(
  script: Uint8Array,
  top: boolean,
  info: SigningInfo,
  prefixes: AddressPrefixes,
): string | null {
  const c = classifyScript(script);
  if (c.type === 'pubkey') {
    const k = keyText(c.pubkey, info);
    if (k !== null) return `pk(${k})`;
  } else if (c.type === 'pubkeyhash') {
    const known = info.keys.get(bytesToHex(c.hash));
    const k = known ? keyText(known.pubkey, info) : null;
    if (k !== null) return `pkh(${k})`;
  } else if (c.type === 'multisig') {
    const keys = c.pubkeys.map((p) => keyText(p, info));
    if (keys.every((k) => k !== null)) return `multi(${c.m},${keys.join(',')})`;
  } else if (c.type === 'scripthash' && top) {
    const redeem = info.redeemScripts.get(bytesToHex(c.hash));
    const inner = redeem ? inferScript(redeem, false, info, prefixes) : null;
    if (inner !== null) return `sh(${inner})`;
  }
  if (!top) return null;
  const address = c.type === 'nulldata' ? null : scriptToAddress(script, prefixes);
  return address ? `addr(${address})` : `raw(${bytesToHex(script)})`;
}

/** Core's InferDescriptor(script, provider)->ToString() with its checksum. */
export function inferDescriptor(
  script: Uint8Array,
  prefixes: AddressPrefixes,
  info: SigningInfo = NOTHING_KNOWN,
): string {
  return withChecksum(inferScript(script, true, info, prefixes)!);
}

// Output descriptors as Core's scriptPubKey.desc prints them (InferDescriptor with no keys known),
// the BIP380 descriptor checksum, and the reading of the pre-SegWit descriptors scantxoutset takes
// (parseDescriptor). Pure: text and scripts in, text and scripts out. A P2PKH or P2SH output is
// addr(ADDRESS) (its key or script is not known from the output alone), a bare key pk(HEX), a
// bare multisig multi(m,HEX,…), anything else raw(HEX); each followed by #checksum.
import { hash160 } from '../crypto/hash.js';
import { isValidPubkey, publicKeyFromPrivate } from '../crypto/secp256k1.js';
import type { AddressPrefixes } from '../primitives/address.js';
import { addressToScript, decodeWif, scriptToAddress } from '../primitives/address.js';
import { bytesToHex, equalBytes, hexToBytes } from '../primitives/bytes.js';
import { classifyScript, p2pkhScript, p2pkScript } from '../script/standard.js';

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

/** Core's InferDescriptor for an output script with no keys or scripts known. */
export function inferDescriptor(script: Uint8Array, prefixes: AddressPrefixes): string {
  const c = classifyScript(script);
  let desc: string;
  if (c.type === 'pubkey') desc = `pk(${bytesToHex(c.pubkey)})`;
  else if (c.type === 'multisig') desc = `multi(${c.m},${c.pubkeys.map(bytesToHex).join(',')})`;
  else {
    const address = c.type === 'nulldata' ? null : scriptToAddress(script, prefixes);
    desc = address ? `addr(${address})` : `raw(${bytesToHex(script)})`;
  }
  return withChecksum(desc);
}

/** A descriptor that cannot be read: one line naming what is wrong (Core answers -5). */
export class DescriptorError extends Error {
  override readonly name = 'DescriptorError';
}

/** What a descriptor stands for: its output scripts and the public keys it names. */
export interface ParsedDescriptor {
  scripts: Uint8Array[];
  pubkeys: Uint8Array[];
}

const SEGWIT_FUNCS = new Set(['wpkh', 'wsh', 'tr', 'rawtr']);

/** Strips a descriptor's #checksum, checking it (BIP380); one without a checksum is accepted. */
function checkedBody(text: string): string {
  const at = text.indexOf('#');
  if (at === -1) return text;
  const body = text.slice(0, at);
  const given = text.slice(at + 1);
  if (given.length !== 8)
    throw new DescriptorError(`Expected 8 character checksum, not ${given.length} characters`);
  let computed: string;
  try {
    computed = descriptorChecksum(body);
  } catch (e) {
    throw new DescriptorError((e as Error).message);
  }
  if (computed !== given)
    throw new DescriptorError(`Provided checksum '${given}' does not match computed checksum '${computed}'`);
  return body;
}

/** A KEY expression: an optional [origin], then a hex public key or a WIF private key. */
function parseKey(expr: string, func: string, prefixes: AddressPrefixes): Uint8Array {
  const key = expr.replace(/^\[[0-9a-fA-F]{8}(\/\d+['h]?)*\]/, '');
  if (/^[0-9a-fA-F]+$/.test(key) && (key.length === 66 || key.length === 130)) {
    const pub = hexToBytes(key);
    if (!isValidPubkey(pub)) throw new DescriptorError(`${func}(): Pubkey '${key}' is invalid`);
    return pub;
  }
  if (/^[tx]p(ub|rv)/.test(key))
    throw new DescriptorError(`${func}(): extended keys (${key.slice(0, 4)}) are not supported yet`);
  try {
    const { privateKey, compressed } = decodeWif(key, prefixes);
    return publicKeyFromPrivate(privateKey, compressed);
  } catch {
    throw new DescriptorError(`${func}(): key '${key}' is not valid`);
  }
}

/**
 * Core's descriptors as far as a pre-SegWit chain has them: addr(ADDRESS), raw(HEX), pk(KEY),
 * pkh(KEY) and combo(KEY) (P2PK and P2PKH: the SegWit forms Core adds for a compressed key do not
 * exist here), KEY a hex public key or a WIF private key. Throws DescriptorError.
 */
export function parseDescriptor(text: string, prefixes: AddressPrefixes): ParsedDescriptor {
  const body = checkedBody(text);
  const m = /^([a-z]+)\((.*)\)$/s.exec(body);
  if (!m) throw new DescriptorError(`'${body}' is not a valid descriptor function`);
  const [, func, arg] = m;
  if (SEGWIT_FUNCS.has(func) || (func === 'sh' && /^(wpkh|wsh)\(/.test(arg)))
    throw new DescriptorError(`${func}(): SegWit and Taproot descriptors do not apply to a pre-SegWit chain`);
  switch (func) {
    case 'addr':
      try {
        return { scripts: [addressToScript(arg, prefixes)], pubkeys: [] };
      } catch {
        throw new DescriptorError('Address is not valid');
      }
    case 'raw':
      if (!/^([0-9a-fA-F]{2})*$/.test(arg)) throw new DescriptorError('Raw script is not hex');
      return { scripts: [hexToBytes(arg)], pubkeys: [] };
    case 'pk':
    case 'pkh':
    case 'combo': {
      const pub = parseKey(arg, func, prefixes);
      const p2pk = p2pkScript(pub);
      const p2pkh = p2pkhScript(hash160(pub));
      const scripts = func === 'pk' ? [p2pk] : func === 'pkh' ? [p2pkh] : [p2pk, p2pkh];
      return { scripts, pubkeys: [pub] };
    }
    default:
      throw new DescriptorError(`'${func}(' is not a valid descriptor function`);
  }
}

/** Core's InferDescriptor with the keys a scan's descriptors named: a P2PKH of a known key is pkh(KEY). */
export function inferDescriptorWithKeys(
  script: Uint8Array,
  pubkeys: readonly Uint8Array[],
  prefixes: AddressPrefixes,
): string {
  const c = classifyScript(script);
  if (c.type === 'pubkeyhash') {
    const known = pubkeys.find((p) => equalBytes(hash160(p), c.hash));
    if (known) return withChecksum(`pkh(${bytesToHex(known)})`);
  }
  return inferDescriptor(script, prefixes);
}

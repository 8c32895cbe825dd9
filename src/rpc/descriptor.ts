// Output descriptors as Core's scriptPubKey.desc prints them (InferDescriptor with no keys known)
// and the BIP380 descriptor checksum. Pure: script in, text out. A P2PKH or P2SH output is
// addr(ADDRESS) (its key or script is not known from the output alone), a bare key pk(HEX), a
// bare multisig multi(m,HEX,…), anything else raw(HEX); each followed by #checksum.
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

// Key export and import in Bitcoin Core's dumpwallet text format: header comments (creation time,
// best block, the extended private master key), one line per private key
// "<WIF> <ISO-8601 time> <label=…|reserve=1|change=1> # addr=<address>[,hdkeypath=<path>]", then
// the scripts: redeem scripts as Core's "<hex> <time> script=1 # addr=<P2SH address>", and, Tally's
// own tags, watched scripts "watchonly=1" and watched public keys "pubkey=1"; "# End of dump". A
// dump is written only to a new file (owner-only); reading skips what it does not understand and
// fails with DumpError for a file that is not one.
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { hash160 } from '../crypto/hash.js';
import { isValidPubkey } from '../crypto/secp256k1.js';
import {
  type AddressPrefixes,
  decodeWif,
  encodeAddress,
  encodeWif,
  scriptToAddress,
} from '../primitives/address.js';
import { hexToBytes } from '../primitives/bytes.js';
import { WalletError } from './errors.js';
import { p2shOf } from './imported.js';
import type { Wallet } from './wallet.js';

export class DumpError extends WalletError {
  constructor(message: string) {
    super(message);
    this.name = 'DumpError';
  }
}

/** Core's FormatISO8601DateTime: seconds precision, UTC. */
export function isoTime(seconds: number): string {
  return new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Core's EncodeDumpString: bytes at or below space, above 127, and '%' as %XX. */
export function encodeDumpString(s: string): string {
  let out = '';
  for (const b of new TextEncoder().encode(s))
    out += b <= 32 || b >= 128 || b === 0x25 ? `%${b.toString(16).padStart(2, '0')}` : String.fromCharCode(b);
  return out;
}

export function decodeDumpString(s: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '%' && /^[0-9a-fA-F]{2}$/.test(s.slice(i + 1, i + 3))) {
      bytes.push(parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(s.charCodeAt(i) & 0xff);
  }
  return new TextDecoder().decode(Uint8Array.from(bytes));
}

export interface DumpHeader {
  now: number;
  tip: { height: number; hash: string; time: number } | null;
}

/** The dump's text. Needs the wallet unlocked (WalletLockedError). */
export function formatDump(wallet: Wallet, h: DumpHeader): string {
  const prefixes = wallet.prefixes;
  const lines = ['# Wallet dump created by Tally', `# * Created on ${isoTime(h.now)}`];
  if (h.tip !== null)
    lines.push(
      `# * Best block at time of backup was ${h.tip.height} (${h.tip.hash}),`,
      `#   mined on ${isoTime(h.tip.time)}`,
    );
  lines.push('', `# extended private masterkey: ${wallet.masterPrivateKey()}`, '');
  wallet.forEachPrivateKey((sk, pk, meta) => {
    const address = encodeAddress('pubkeyhash', hash160(pk), prefixes);
    const label = wallet.labelOf(address);
    const tag =
      label !== undefined
        ? `label=${encodeDumpString(label)}`
        : meta.change
          ? 'change=1'
          : meta.reserve
            ? 'reserve=1'
            : 'label=';
    const path = meta.path !== undefined ? `,hdkeypath=${meta.path}` : '';
    lines.push(
      `${encodeWif(sk, pk.length === 33, prefixes)} ${isoTime(meta.time)} ${tag} # addr=${address}${path}`,
    );
  });
  lines.push('', '# The following lines are scripts and watched keys:');
  const imported = wallet.importedKeys;
  for (const s of imported.scripts) {
    const time = isoTime(s.time);
    if (s.redeemScript !== undefined)
      lines.push(
        `${s.redeemScript} ${time} script=1 # addr=${scriptToAddress(p2shOf(hexToBytes(s.redeemScript)), prefixes)}`,
      );
    else {
      const address = scriptToAddress(hexToBytes(s.script), prefixes);
      const label = address === null ? undefined : wallet.labelOf(address);
      const tail = label !== undefined ? ` label=${encodeDumpString(label)}` : '';
      lines.push(`${s.script} ${time} watchonly=1${tail} # addr=${address ?? ''}`);
    }
  }
  for (const k of imported.keys)
    if (k.secret === undefined) {
      const address = encodeAddress('pubkeyhash', hash160(hexToBytes(k.pubkey)), prefixes);
      const label = wallet.labelOf(address);
      const tail = label !== undefined ? ` label=${encodeDumpString(label)}` : '';
      lines.push(`${k.pubkey} ${isoTime(k.time)} pubkey=1${tail} # addr=${address}`);
    }
  lines.push('', '# End of dump', '');
  return lines.join('\n');
}

/**
 * Writes a dump to a file that must not exist yet (Core's -8 otherwise), owner-only. Returns its
 * absolute path.
 */
export function writeDump(path: string, text: string): string {
  const full = resolve(path);
  try {
    writeFileSync(full, text, { flag: 'wx', mode: 0o600 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST')
      throw new DumpError(
        `${full} already exists. If you are sure this is what you want, move it out of the way first`,
      );
    throw new DumpError(`Cannot open wallet dump file: ${(e as Error).message}`);
  }
  return full;
}

export interface DumpContents {
  keys: { privateKey: Uint8Array; compressed: boolean; time: number; label?: string }[];
  pubkeys: { publicKey: Uint8Array; time: number; label?: string }[];
  redeemScripts: { script: Uint8Array; time: number }[];
  watched: { script: Uint8Array; time: number; label?: string }[];
}

/** Reads a dump file (Core's -8 "Cannot open wallet dump file" when it cannot). */
export function readDump(path: string, prefixes: AddressPrefixes): DumpContents {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new DumpError('Cannot open wallet dump file');
  }
  return parseDump(text, prefixes);
}

/** Core's importwallet reading: comments and blank lines skipped; a time that is not ISO-8601 is 0. */
export function parseDump(text: string, prefixes: AddressPrefixes): DumpContents {
  const out: DumpContents = { keys: [], pubkeys: [], redeemScripts: [], watched: [] };
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const fields = line.split('#')[0].trim().split(/\s+/);
    if (fields.length < 2) continue;
    const parsed = Date.parse(fields[1]);
    const time = Number.isNaN(parsed) ? 0 : Math.max(0, Math.floor(parsed / 1000));
    const labelField = fields.slice(2).find((f) => f.startsWith('label='));
    const label = labelField === undefined ? undefined : decodeDumpString(labelField.slice(6));
    const tags = new Set(fields.slice(2));
    let key: { privateKey: Uint8Array; compressed: boolean } | null = null;
    try {
      key = decodeWif(fields[0], prefixes);
    } catch {
      key = null;
    }
    if (key !== null) {
      out.keys.push({ ...key, time, ...(label !== undefined ? { label } : {}) });
      continue;
    }
    if (!/^([0-9a-fA-F]{2})+$/.test(fields[0])) continue;
    const bytes = hexToBytes(fields[0].toLowerCase());
    if (tags.has('pubkey=1') && isValidPubkey(bytes)) out.pubkeys.push({ publicKey: bytes, time, label });
    else if (tags.has('watchonly=1')) out.watched.push({ script: bytes, time, label });
    else out.redeemScripts.push({ script: bytes, time });
  }
  if (out.keys.length + out.pubkeys.length + out.redeemScripts.length + out.watched.length === 0)
    throw new DumpError('the file holds no keys or scripts in the dumpwallet format');
  return out;
}

/** The earliest time in a dump (rescans start there), seconds. */
export function earliestTime(d: DumpContents): number {
  const times = [...d.keys, ...d.pubkeys, ...d.redeemScripts, ...d.watched].map((x) => x.time);
  return Math.min(...times);
}

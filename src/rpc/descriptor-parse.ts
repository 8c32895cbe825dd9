// Output descriptors (BIP380-386) as far as a pre-SegWit chain has them, read as Core's
// script/descriptor.cpp reads them: sh(SCRIPT), pk(KEY), pkh(KEY), combo(KEY), multi(k,KEY,…),
// sortedmulti(k,KEY,…), addr(ADDRESS) and raw(HEX); KEY a hex public key, a WIF private key or an
// extended key (xpub/xprv, tpub/tprv) with a /path and an optional /* or /*' range, each with an
// optional [fingerprint/path] origin. Parsing gives a Descriptor; expandDescriptor gives its
// output scripts at one range position with the keys and redeem scripts behind them (what Core's
// FlatSigningProvider holds), descriptorString its canonical public text. Errors are
// DescriptorError with Core's wording. Pure: text in, scripts out.
import { HDKey } from '@scure/bip32';
import { hash160 } from '../crypto/hash.js';
import { isValidPubkey, publicKeyFromPrivate } from '../crypto/secp256k1.js';
import type { AddressPrefixes } from '../primitives/address.js';
import { addressToScript, decodeWif, scriptToAddress } from '../primitives/address.js';
import { bytesToHex, compareBytes, hexToBytes } from '../primitives/bytes.js';
import { multisigScript, p2pkhScript, p2pkScript, p2shScript } from '../script/standard.js';
import { DescriptorError, checkedBody, formatKeyPath, type KeyInfo, type SigningInfo } from './descriptor.js';

const HARDENED = 0x80000000;
/** Core's MAX_PUBKEYS_PER_MULTISIG and MAX_SCRIPT_ELEMENT_SIZE (a P2SH redeem script is one push). */
const MAX_MULTISIG_KEYS = 20;
const MAX_REDEEM_SCRIPT = 520;
/** Bitcoin's BIP32 version bytes, main (xpub/xprv) and test (tpub/tprv): either is read on any network. */
const EXT_VERSIONS = [
  { public: 0x0488b21e, private: 0x0488ade4 },
  { public: 0x043587cf, private: 0x04358394 },
];
const SEGWIT_FUNCS = new Set(['wpkh', 'wsh', 'tr', 'rawtr']);

interface KeyOrigin {
  /** Lowercase hex, 8 characters. */
  fingerprint: string;
  path: number[];
}

type KeyExpr = {
  origin: KeyOrigin | null;
  /** Core's m_apostrophe: print hardened steps with ' (true) or h (false). */
  apostrophe: boolean;
} & (
  | { kind: 'const'; pubkey: Uint8Array; priv: boolean }
  | {
      kind: 'bip32';
      /** The extended key as given, public (neutered when an xprv was given). */
      root: HDKey;
      /** The extended private key when one was given. */
      secret: HDKey | null;
      path: number[];
      derive: 'none' | 'unhardened' | 'hardened';
      /** The key at `path`, derived once (null: a hardened step without the private key). */
      base?: HDKey | null;
    }
);

type ScriptExpr =
  | { fn: 'pk' | 'pkh' | 'combo'; key: KeyExpr }
  | { fn: 'multi' | 'sortedmulti'; k: number; keys: KeyExpr[] }
  | { fn: 'sh'; inner: ScriptExpr }
  | { fn: 'addr' | 'raw'; script: Uint8Array };

export interface Descriptor {
  readonly expr: ScriptExpr;
  /** Some key has a /* step: the descriptor stands for one script set per position. */
  readonly isRange: boolean;
  /** Core's IsSolvable: false for addr() and raw(), whose keys and scripts are not known. */
  readonly isSolvable: boolean;
  /** A WIF or xprv key was given. */
  readonly hasPrivateKeys: boolean;
  readonly prefixes: AddressPrefixes;
}

/** A descriptor's scripts at one position and what stands behind them. */
export interface Expansion {
  scripts: Uint8Array[];
  info: SigningInfo;
}

type Ctx = 'top' | 'p2sh';

/** Core's Expr: the text up to the first ',', ')' or '}' outside brackets. */
function takeExpr(s: string): [expr: string, rest: string] {
  let level = 0;
  let i = 0;
  for (; i < s.length; i++) {
    const c = s[i];
    if (c === '(' || c === '{') level++;
    else if (level > 0 && (c === ')' || c === '}')) level--;
    else if (level === 0 && (c === ')' || c === '}' || c === ',')) break;
  }
  return [s.slice(0, i), s.slice(i)];
}

/** Core's Func: the arguments when e is exactly name(…). */
function func(name: string, e: string): string | null {
  return e.length >= name.length + 2 && e.startsWith(name) && e[name.length] === '(' && e.endsWith(')')
    ? e.slice(name.length + 1, -1)
    : null;
}

const isHex = (s: string) => s.length > 0 && s.length % 2 === 0 && /^[0-9a-fA-F]*$/.test(s);

/** One /step of a key path (Core's ParseKeyPathElement). Sets the apostrophe flag on a hardened step. */
function pathStep(elem: string, flags: { apostrophe: boolean }): number {
  if (elem === '') throw new DescriptorError(`Key path value '${elem}' is not valid`);
  if (elem.startsWith('<'))
    throw new DescriptorError(`Key path value '${elem}': multipath descriptors (BIP389) are not supported`);
  const last = elem[elem.length - 1];
  const hardened = last === "'" || last === 'h';
  const digits = hardened ? elem.slice(0, -1) : elem;
  if (!/^\d+$/.test(digits) || Number(digits) > 0xffffffff)
    throw new DescriptorError(`Key path value '${elem}' is not a valid uint32`);
  const n = Number(digits);
  if (n >= HARDENED) throw new DescriptorError(`Key path value ${n} is out of range`);
  if (hardened) flags.apostrophe = last === "'";
  return hardened ? n + HARDENED : n;
}

function decodeExtKey(text: string): HDKey | null {
  for (const versions of EXT_VERSIONS) {
    try {
      return HDKey.fromExtendedKey(text, versions);
    } catch {
      // not this family (or not an extended key at all)
    }
  }
  return null;
}

/** A key without its origin (Core's ParsePubkeyInner). */
function parseKeyInner(
  text: string,
  origin: KeyOrigin | null,
  flags: { apostrophe: boolean },
  prefixes: AddressPrefixes,
): KeyExpr {
  const split = text.split('/');
  const str = split[0];
  if (str === '') throw new DescriptorError('No key provided');
  if (/^\s|\s$/.test(str)) throw new DescriptorError(`Key '${str}' is invalid due to whitespace`);
  if (split.length === 1) {
    if (isHex(str)) {
      const data = hexToBytes(str);
      if (data.length === 65 && (data[0] === 6 || data[0] === 7))
        throw new DescriptorError('Hybrid public keys are not allowed');
      const shaped =
        (data.length === 33 && (data[0] === 2 || data[0] === 3)) || (data.length === 65 && data[0] === 4);
      if (shaped && isValidPubkey(data))
        return { kind: 'const', pubkey: data, priv: false, origin, apostrophe: flags.apostrophe };
      throw new DescriptorError(`Pubkey '${str}' is invalid`);
    }
    try {
      const { privateKey, compressed } = decodeWif(str, prefixes);
      const pubkey = publicKeyFromPrivate(privateKey, compressed);
      return { kind: 'const', pubkey, priv: true, origin, apostrophe: flags.apostrophe };
    } catch {
      // not a WIF key: an extended one?
    }
  }
  const ext = decodeExtKey(str);
  if (ext === null) throw new DescriptorError(`key '${str}' is not valid`);
  let derive: 'none' | 'unhardened' | 'hardened' = 'none';
  const tail = split[split.length - 1];
  if (split.length > 1 && tail === '*') {
    split.pop();
    derive = 'unhardened';
  } else if (split.length > 1 && (tail === "*'" || tail === '*h')) {
    split.pop();
    derive = 'hardened';
    flags.apostrophe = tail === "*'";
  }
  const path = split.slice(1).map((e) => pathStep(e, flags));
  const secret = ext.privateKey ? ext : null;
  const root = secret ? HDKey.fromExtendedKey(secret.publicExtendedKey, secret.versions) : ext;
  return { kind: 'bip32', root, secret, path, derive, origin, apostrophe: flags.apostrophe };
}

/** A KEY expression with its optional [fingerprint/path] origin (Core's ParsePubkey). */
function parseKey(text: string, prefixes: AddressPrefixes): KeyExpr {
  const parts = text.split(']');
  if (parts.length > 2) throw new DescriptorError("Multiple ']' characters found for a single pubkey");
  const flags = { apostrophe: false };
  if (parts.length === 1) return parseKeyInner(text, null, flags, prefixes);
  const [originText, keyText] = parts;
  if (!originText.startsWith('['))
    throw new DescriptorError(
      `Key origin start '[ character expected but not found, got '${originText[0] ?? ']'}' instead`,
    );
  const steps = originText.slice(1).split('/');
  const fp = steps[0];
  if (fp.length !== 8)
    throw new DescriptorError(`Fingerprint is not 4 bytes (${fp.length} characters instead of 8 characters)`);
  if (!isHex(fp)) throw new DescriptorError(`Fingerprint '${fp}' is not hex`);
  const origin = { fingerprint: fp.toLowerCase(), path: steps.slice(1).map((e) => pathStep(e, flags)) };
  // The flag the key's own path leaves wins; an origin-only hardened step sets it first.
  return parseKeyInner(keyText, origin, flags, prefixes);
}

function segwitRefusal(fn: string): DescriptorError {
  return new DescriptorError(`${fn}(): SegWit and Taproot descriptors do not apply to a pre-SegWit chain`);
}

/** One SCRIPT expression (Core's ParseScript for the top level and inside sh()). */
function parseScript(s: string, ctx: Ctx, prefixes: AddressPrefixes): [ScriptExpr, string] {
  const [e, rest] = takeExpr(s);
  const withKey = (fn: 'pk' | 'pkh' | 'combo', arg: string): ScriptExpr => {
    try {
      return { fn, key: parseKey(arg, prefixes) };
    } catch (err) {
      if (err instanceof DescriptorError) throw new DescriptorError(`${fn}(): ${err.message}`);
      throw err;
    }
  };
  let arg: string | null;
  if ((arg = func('pk', e)) !== null) return [withKey('pk', arg), rest];
  if ((arg = func('pkh', e)) !== null) return [withKey('pkh', arg), rest];
  if ((arg = func('combo', e)) !== null) {
    if (ctx !== 'top') throw new DescriptorError('Can only have combo() at top level');
    return [withKey('combo', arg), rest];
  }
  const multiFn =
    func('multi', e) !== null ? 'multi' : func('sortedmulti', e) !== null ? 'sortedmulti' : null;
  if (multiFn !== null) return [parseMulti(multiFn, func(multiFn, e)!, ctx, prefixes), rest];
  if (func('multi_a', e) !== null || func('sortedmulti_a', e) !== null)
    throw new DescriptorError('Can only have multi_a/sortedmulti_a inside tr()');
  for (const fn of SEGWIT_FUNCS) if (func(fn, e) !== null) throw segwitRefusal(fn);
  if ((arg = func('sh', e)) !== null) {
    if (ctx !== 'top') throw new DescriptorError('Can only have sh() at top level');
    const [inner, left] = parseScript(arg, 'p2sh', prefixes);
    if (left !== '') throw new DescriptorError(`sh(): unexpected '${left}' after the script`);
    return [{ fn: 'sh', inner }, rest];
  }
  if ((arg = func('addr', e)) !== null) {
    if (ctx !== 'top') throw new DescriptorError('Can only have addr() at top level');
    try {
      return [{ fn: 'addr', script: addressToScript(arg, prefixes) }, rest];
    } catch {
      throw new DescriptorError('Address is not valid');
    }
  }
  if ((arg = func('raw', e)) !== null) {
    if (ctx !== 'top') throw new DescriptorError('Can only have raw() at top level');
    if (!isHex(arg)) throw new DescriptorError('Raw script is not hex');
    return [{ fn: 'raw', script: hexToBytes(arg) }, rest];
  }
  if (ctx === 'p2sh') throw new DescriptorError('A function is needed within P2SH');
  throw new DescriptorError(`'${e}' is not a valid descriptor function`);
}

function parseMulti(
  fn: 'multi' | 'sortedmulti',
  args: string,
  ctx: Ctx,
  prefixes: AddressPrefixes,
): ScriptExpr {
  const [threshold, afterThreshold] = takeExpr(args);
  let rest = afterThreshold;
  if (!/^\d+$/.test(threshold) || Number(threshold) > 0xffffffff)
    throw new DescriptorError(`Multi threshold '${threshold}' is not valid`);
  const k = Number(threshold);
  const keys: KeyExpr[] = [];
  let scriptSize = 0;
  while (rest !== '') {
    if (rest[0] !== ',') throw new DescriptorError(`Multi: expected ',', got '${rest[0]}'`);
    let keyText: string;
    [keyText, rest] = takeExpr(rest.slice(1));
    try {
      const key = parseKey(keyText, prefixes);
      keys.push(key);
      scriptSize += (key.kind === 'const' ? key.pubkey.length : 33) + 1;
    } catch (err) {
      if (err instanceof DescriptorError) throw new DescriptorError(`Multi: ${err.message}`);
      throw err;
    }
  }
  if (keys.length === 0 || keys.length > MAX_MULTISIG_KEYS)
    throw new DescriptorError(
      `Cannot have ${keys.length} keys in multisig; must have between 1 and ${MAX_MULTISIG_KEYS} keys, inclusive`,
    );
  if (k < 1) throw new DescriptorError(`Multisig threshold cannot be ${k}, must be at least 1`);
  if (k > keys.length)
    throw new DescriptorError(
      `Multisig threshold cannot be larger than the number of keys; threshold is ${k} but only ${keys.length} keys specified`,
    );
  if (ctx === 'top' && keys.length > 3)
    throw new DescriptorError(`Cannot have ${keys.length} pubkeys in bare multisig; only at most 3 pubkeys`);
  if (ctx === 'p2sh' && scriptSize + 3 > MAX_REDEEM_SCRIPT)
    throw new DescriptorError(
      `P2SH script is too large, ${scriptSize + 3} bytes is larger than ${MAX_REDEEM_SCRIPT} bytes`,
    );
  return { fn, k, keys };
}

function keysOf(e: ScriptExpr): KeyExpr[] {
  switch (e.fn) {
    case 'sh':
      return keysOf(e.inner);
    case 'multi':
    case 'sortedmulti':
      return e.keys;
    case 'addr':
    case 'raw':
      return [];
    default:
      return [e.key];
  }
}

/**
 * Reads a descriptor (Core's Parse): its #checksum is checked when present and required when
 * `requireChecksum` (deriveaddresses). Throws DescriptorError with Core's message.
 */
export function parseDescriptorText(
  text: string,
  prefixes: AddressPrefixes,
  requireChecksum = false,
): Descriptor {
  const body = checkedBody(text, requireChecksum);
  const [expr, rest] = parseScript(body, 'top', prefixes);
  if (rest !== '') throw new DescriptorError(`Unexpected '${rest}' after the descriptor`);
  const keys = keysOf(expr);
  return {
    expr,
    isRange: keys.some((k) => k.kind === 'bip32' && k.derive !== 'none'),
    isSolvable: expr.fn !== 'addr' && expr.fn !== 'raw',
    hasPrivateKeys: keys.some((k) => (k.kind === 'const' ? k.priv : k.secret !== null)),
    prefixes,
  };
}

function keyString(k: KeyExpr): string {
  const origin = k.origin ? `[${k.origin.fingerprint}${formatKeyPath(k.origin.path, k.apostrophe)}]` : '';
  if (k.kind === 'const') return origin + bytesToHex(k.pubkey);
  const range = k.derive === 'none' ? '' : k.derive === 'unhardened' ? '/*' : k.apostrophe ? "/*'" : '/*h';
  return origin + k.root.publicExtendedKey + formatKeyPath(k.path, k.apostrophe) + range;
}

function exprString(e: ScriptExpr, prefixes: AddressPrefixes): string {
  switch (e.fn) {
    case 'sh':
      return `sh(${exprString(e.inner, prefixes)})`;
    case 'multi':
    case 'sortedmulti':
      return `${e.fn}(${e.k},${e.keys.map(keyString).join(',')})`;
    case 'addr':
      return `addr(${scriptToAddress(e.script, prefixes)})`;
    case 'raw':
      return `raw(${bytesToHex(e.script)})`;
    default:
      return `${e.fn}(${keyString(e.key)})`;
  }
}

/** The descriptor in canonical form without private keys and without its checksum (Core's ToString). */
export function descriptorString(d: Descriptor): string {
  return exprString(d.expr, d.prefixes);
}

const cannotDerive = () => new DescriptorError('Cannot derive script without private keys');

/** A key at a range position with its origin as Core's provider records it. */
function deriveKey(k: KeyExpr, pos: number): KeyInfo {
  if (k.kind === 'const')
    return {
      pubkey: k.pubkey,
      origin: k.origin ? { fingerprint: k.origin.fingerprint, path: k.origin.path } : null,
    };
  if (k.base === undefined) {
    let at: HDKey | null = k.secret ?? k.root;
    try {
      for (const step of k.path) at = at.deriveChild(step);
    } catch {
      at = null; // a hardened step from a public key
    }
    k.base = at;
  }
  if (k.base === null) throw cannotDerive();
  let child = k.base;
  const steps = [...k.path];
  if (k.derive !== 'none') {
    const index = k.derive === 'hardened' ? pos + HARDENED : pos;
    if (k.derive === 'hardened' && k.secret === null) throw cannotDerive();
    child = k.base.deriveChild(index);
    steps.push(index);
  }
  const origin = k.origin
    ? { fingerprint: k.origin.fingerprint, path: [...k.origin.path, ...steps] }
    : { fingerprint: (k.root.fingerprint >>> 0).toString(16).padStart(8, '0'), path: steps };
  return { pubkey: child.publicKey!, origin };
}

function expandExpr(e: ScriptExpr, pos: number, out: SigningInfo): Uint8Array[] {
  const key = (k: KeyExpr) => {
    const info = deriveKey(k, pos);
    out.keys.set(bytesToHex(hash160(info.pubkey)), info);
    return info.pubkey;
  };
  switch (e.fn) {
    case 'pk':
      return [p2pkScript(key(e.key))];
    case 'pkh':
      return [p2pkhScript(hash160(key(e.key)))];
    case 'combo': {
      // Core adds P2WPKH and P2SH-P2WPKH for a compressed key; they do not exist before SegWit.
      const pub = key(e.key);
      return [p2pkScript(pub), p2pkhScript(hash160(pub))];
    }
    case 'multi':
    case 'sortedmulti': {
      const pubs = e.keys.map(key);
      if (e.fn === 'sortedmulti') pubs.sort(compareBytes);
      return [multisigScript(e.k, pubs)];
    }
    case 'sh': {
      const [redeem] = expandExpr(e.inner, pos, out);
      const h = hash160(redeem);
      out.redeemScripts.set(bytesToHex(h), redeem);
      return [p2shScript(h)];
    }
    default:
      return [e.script];
  }
}

/**
 * The output scripts at range position `pos` (0 for an unranged descriptor) with the keys and
 * redeem scripts behind them. Throws DescriptorError('Cannot derive script without private keys')
 * for a hardened step without the private key.
 */
export function expandDescriptor(d: Descriptor, pos: number): Expansion {
  const info: SigningInfo = { keys: new Map(), redeemScripts: new Map() };
  return { scripts: expandExpr(d.expr, pos, info), info };
}

/** Parses and expands at position 0: what scantxoutset and generatetodescriptor need of an unranged one. */
export function parseDescriptor(text: string, prefixes: AddressPrefixes): Expansion {
  return expandDescriptor(parseDescriptorText(text, prefixes), 0);
}

// Core's Util descriptor methods: getdescriptorinfo (canonical form, checksum, isrange,
// issolvable, hasprivatekeys) and deriveaddresses (a descriptor's addresses over a range), plus
// Core's ParseDescriptorRange, which scantxoutset shares. Owns the JSON shapes and error codes;
// reading descriptors is descriptor-parse.ts. -5 for a descriptor that cannot be read or derived,
// -8 for a bad range.
import type { AddressPrefixes } from '../primitives/address.js';
import { scriptToAddress } from '../primitives/address.js';
import { classifyScript } from '../script/standard.js';
import { DescriptorError, descriptorChecksum, withChecksum } from './descriptor.js';
import {
  type Descriptor,
  descriptorString,
  expandDescriptor,
  parseDescriptorText,
} from './descriptor-parse.js';
import { RpcCode, RpcError } from './errors.js';
import { methodRegistrar } from './params.js';
import type { RpcServer } from './server.js';

const rangeError = (msg: string) => new RpcError(RpcCode.INVALID_PARAMETER, msg);

/** Core's ParseDescriptorRange: `end` (meaning [0,end]) or `[begin,end]`, checked as Core checks it. */
export function parseDescriptorRange(value: unknown): [number, number] {
  let low: number;
  let high: number;
  const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);
  if (isInt(value)) [low, high] = [0, value];
  else if (Array.isArray(value) && value.length === 2 && isInt(value[0]) && isInt(value[1])) {
    [low, high] = value as [number, number];
    if (low > high) throw rangeError('Range specified as [begin,end] must not have begin after end');
  } else throw rangeError('Range must be specified as end or as [begin,end]');
  if (low < 0) throw rangeError('Range should be greater or equal than 0');
  if (high < 0 || high >= 2 ** 31) throw rangeError('End of range is too high');
  if (high >= low + 1000000) throw rangeError('Range is too large');
  return [low, high];
}

/** Parses a descriptor for an RPC method: Core answers -5 with the parser's message. */
export function rpcDescriptor(text: string, prefixes: AddressPrefixes, requireChecksum = false): Descriptor {
  try {
    return parseDescriptorText(text, prefixes, requireChecksum);
  } catch (e) {
    if (e instanceof DescriptorError) throw new RpcError(RpcCode.INVALID_ADDRESS_OR_KEY, e.message);
    throw e;
  }
}

/** A descriptor's scripts at one position, -5 when a hardened step needs a private key it lacks. */
export function rpcExpand(d: Descriptor, pos: number): Uint8Array[] {
  try {
    return expandDescriptor(d, pos).scripts;
  } catch (e) {
    if (e instanceof DescriptorError) throw new RpcError(RpcCode.INVALID_ADDRESS_OR_KEY, e.message);
    throw e;
  }
}

/**
 * Core's getScriptFromDescriptor (generatetodescriptor, generateblock): the one output script of an
 * unranged descriptor, combo()'s P2PKH (its second script); -8 for a ranged one.
 */
export function descriptorScript(d: Descriptor): Uint8Array {
  if (d.isRange)
    throw rangeError('Ranged descriptor not accepted. Maybe pass through deriveaddresses first?');
  const scripts = rpcExpand(d, 0);
  return scripts.length === 1 ? scripts[0] : scripts[1];
}

export function registerDescriptorMethods(server: RpcServer, deps: { prefixes: AddressPrefixes }): void {
  const reg = methodRegistrar(server);
  const { prefixes } = deps;

  reg('getdescriptorinfo', ['descriptor'], 'Analyses a descriptor.', (r) => {
    const text = r.string(0);
    const d = rpcDescriptor(text, prefixes);
    return {
      descriptor: withChecksum(descriptorString(d)),
      checksum: descriptorChecksum(text.split('#')[0]),
      isrange: d.isRange,
      issolvable: d.isSolvable,
      hasprivatekeys: d.hasPrivateKeys,
    };
  });

  reg(
    'deriveaddresses',
    ['descriptor', 'range'],
    'Derives one or more addresses corresponding to an output descriptor.',
    async (r, raw) => {
      const text = r.string(0);
      const [low, high] = r.has(1) ? parseDescriptorRange(raw[1]) : [0, 0];
      const d = rpcDescriptor(text, prefixes, true);
      const rangeGiven = raw.length > 1;
      if (!d.isRange && rangeGiven)
        throw rangeError('Range should not be specified for an un-ranged descriptor');
      if (d.isRange && !rangeGiven) throw rangeError('Range must be specified for a ranged descriptor');
      const addresses: string[] = [];
      for (let pos = low; pos <= high; pos++) {
        // A range may hold a million keys: let other callers in between positions.
        if ((pos - low) % 100 === 99) await new Promise((done) => setImmediate(done));
        const scripts = rpcExpand(d, pos);
        for (const s of scripts) {
          const address = scriptToAddress(s, prefixes);
          if (address !== null) addresses.push(address);
          // combo's P2PK output has no address; Core skips it when the descriptor gave several scripts.
          else if (!(scripts.length > 1 && classifyScript(s).type === 'pubkey'))
            throw new RpcError(
              RpcCode.INVALID_ADDRESS_OR_KEY,
              'Descriptor does not have a corresponding address',
            );
        }
      }
      return addresses;
    },
  );
}

// RPC methods of the node's optional interfaces: ZMQ (getzmqnotifications) and the indexes
// (getindexinfo, getblockfilter). Owns only the reply shapes, parameters and error codes, which
// follow Bitcoin Core's; the publishers and indexes are reached through the functions given here.
import type { RpcServer } from './server.js';
import { methodRegistrar } from './params.js';
import { hashParam } from './chain-json.js';
import { RpcCode, RpcError } from './errors.js';
import { hashFromHex, reverseHex, bytesToHex } from '../primitives/bytes.js';

export interface InterfaceMethodDeps {
  /** ZMQ publishers active ([] when none is configured). */
  zmqNotifications: () => { type: string; address: string; hwm: number }[];
  /** Each running index by Core's name ("txindex", "basic block filter index"). */
  indexes: () => Record<string, { synced: boolean; best_block_height: number }>;
  /** Whether the chain knows a block (internal byte order). */
  hasBlock: (hash: Uint8Array) => boolean;
  /** The basic filter index, when blockfilterindex is on. */
  basicFilter?: (hash: Uint8Array) => Promise<{ filter: Uint8Array; header: Uint8Array } | undefined>;
}

export function registerInterfaceMethods(server: RpcServer, deps: InterfaceMethodDeps): void {
  const reg = methodRegistrar(server);
  reg(
    'getzmqnotifications',
    [],
    'Returns information about the active ZeroMQ notifications.\n\nResult:\n[{"type": str, "address": str, "hwm": n}, ...]',
    () => deps.zmqNotifications(),
  );
  reg(
    'getindexinfo',
    ['index_name'],
    'Returns the status of one or all available indices currently running in the node.\n\n' +
      'Result:\n{"name": {"synced": bool, "best_block_height": n}, ...}',
    (r) => {
      const all = deps.indexes();
      const name = r.optString(0);
      if (name === undefined) return all;
      return Object.hasOwn(all, name) ? { [name]: all[name] } : {};
    },
  );
  reg(
    'getblockfilter',
    ['blockhash', 'filtertype'],
    'Retrieve a BIP 157 content filter for a particular block.\n\n' +
      'Arguments: blockhash, filtertype (default "basic").\nResult:\n{"filter": hex, "header": hex}',
    async (r) => {
      const hash = hashFromHex(hashParam(r, 0, 'blockhash'));
      const type = r.optString(1) ?? 'basic';
      if (type !== 'basic') throw new RpcError(RpcCode.INVALID_ADDRESS_OR_KEY, 'Unknown filtertype');
      if (!deps.basicFilter)
        throw new RpcError(RpcCode.MISC_ERROR, 'Index is not enabled for filtertype basic');
      if (!deps.hasBlock(hash)) throw new RpcError(RpcCode.INVALID_ADDRESS_OR_KEY, 'Block not found');
      const f = await deps.basicFilter(hash);
      if (!f)
        throw new RpcError(
          RpcCode.MISC_ERROR,
          'Filter not found. Block filters are still in the process of being indexed.',
        );
      return { filter: bytesToHex(f.filter), header: reverseHex(f.header) };
    },
  );
}

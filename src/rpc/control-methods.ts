// Core's remaining operator methods on the node (rpc/node.cpp, mining.cpp, blockchain.cpp):
// logging, prioritisetransaction and getprioritisedtransactions, preciousblock and
// getblockfrompeer. Owns only the parameters, reply shapes and error codes, which follow Bitcoin
// Core v29's; the logger, pool, chain and peers are reached through the ports given here. Fails
// with RpcError: -8 unknown logging category or non-zero dummy, -5 unknown block, -1 Core's
// getblockfrompeer texts.
import { bytesToHex, hashFromHex, hexToBytes, reverseHex } from '../primitives/bytes.js';
import { hashParam } from './chain-json.js';
import { RpcCode, RpcError } from './errors.js';
import { methodRegistrar } from './params.js';
import type { ChainPort, LoggingPort, MempoolPort, NetPort } from './ports.js';
import type { RpcServer } from './server.js';

export interface ControlRpcDeps {
  chain: Pick<ChainPort, 'getEntry' | 'preciousBlock'>;
  mempool: Pick<MempoolPort, 'get' | 'modifiedFee' | 'prioritise' | 'prioritised'>;
  logging?: LoggingPort;
  p2p?: Pick<NetPort, 'fetchBlock'>;
}

export function registerControlMethods(server: RpcServer, deps: ControlRpcDeps): void {
  const { chain, mempool } = deps;
  const reg = methodRegistrar(server);
  const { logging, p2p } = deps;

  if (logging) {
    reg('logging', ['include', 'exclude'], '', (r) => {
      const names = (i: number): string[] => {
        if (!r.has(i)) return [];
        return r.array(i).map((name) => {
          if (typeof name !== 'string')
            throw new RpcError(RpcCode.TYPE_ERROR, 'JSON value is not a string as expected');
          const known = name === '' || name === '1' || name === 'all' || name in logging.categories();
          if (!known) throw new RpcError(RpcCode.INVALID_PARAMETER, `unknown logging category ${name}`);
          return name === '' ? 'all' : name;
        });
      };
      const include = names(0);
      const exclude = names(1);
      logging.setDebug(include, exclude);
      return logging.categories();
    });
  }

  reg('prioritisetransaction', ['txid', 'dummy', 'fee_delta'], '', (r) => {
    const txid = bytesToHex(hashFromHex(hashParam(r, 0, 'txid')));
    if (r.has(1) && r.number(1) !== 0)
      throw new RpcError(
        RpcCode.INVALID_PARAMETER,
        'Priority is no longer supported, dummy argument to prioritisetransaction must be 0.',
      );
    mempool.prioritise(txid, BigInt(r.int(2)));
    return true;
  });

  reg('getprioritisedtransactions', [], '', () => {
    const out: Record<string, unknown> = {};
    for (const [txid, delta] of mempool.prioritised()) {
      const e = mempool.get(txid);
      out[reverseHex(hexToBytes(txid))] = {
        fee_delta: Number(delta),
        in_mempool: e !== undefined,
        ...(e ? { modified_fee: Number(mempool.modifiedFee(e)) } : {}),
      };
    }
    return out;
  });

  reg('preciousblock', ['blockhash'], '', async (r) => {
    const hash = hashParam(r, 0, 'blockhash');
    if (chain.getEntry(hash) === undefined)
      throw new RpcError(RpcCode.INVALID_ADDRESS_OR_KEY, 'Block not found');
    await chain.preciousBlock(hash);
    return null;
  });

  if (p2p) {
    reg('getblockfrompeer', ['blockhash', 'peer_id'], '', (r) => {
      const hash = hashParam(r, 0, 'blockhash');
      const peer = r.int(1);
      const e = chain.getEntry(hash);
      if (e === undefined) throw new RpcError(RpcCode.MISC_ERROR, 'Block header missing');
      if (e.hasData()) throw new RpcError(RpcCode.MISC_ERROR, 'Block already downloaded');
      const err = p2p.fetchBlock(peer, e.hash);
      if (err !== null) throw new RpcError(RpcCode.MISC_ERROR, err);
      return {};
    });
  }
}

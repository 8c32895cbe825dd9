// Method table (see catalog.ts): control-methods.ts's logging, priorities, preciousblock and
// getblockfrompeer, and setnetworkactive, worded after Bitcoin Core v29's help text with Tally's
// differences said where there are some.
import type { MethodDoc } from './catalog-args.js';
import { opt, req } from './catalog-args.js';

const HASH = '00000000c937983704a73af28acdec37b049d214adbda81d7e2a3dd146f6ed09';
const TXID = 'a08e6907dbbd3d809776dbfc5d82e371b764ed838b5655e72f463568df1aadf0';

export const CONTROL_DOCS: Record<string, MethodDoc> = {
  logging: {
    summary:
      'Gets and sets the logging configuration.\n' +
      'When called without an argument, returns the list of categories with status that are currently being debug logged or not.\n' +
      'When called with arguments, adds or removes categories from debug logging and return the lists above.\n' +
      'The arguments are evaluated in order "include", "exclude".\n' +
      'If an item is both included and excluded, it will thus end up being excluded.\n' +
      'The valid logging categories are the keys of the result (chain, index, mempool, mining, net, node, notify, rpc, stratum, wallet).\n' +
      'In addition, the following are available as category names with special meanings:\n' +
      '  - "all",  "1" : represent all logging categories.\n' +
      "(Core's other categories, such as tor, http, bench, zmq, walletdb, estimatefee, addrman, leveldb, " +
      'validation, do not exist in Tally and are refused as unknown.)',
    args: [
      opt('include', 'array', '', 'The categories to add to debug logging'),
      opt('exclude', 'array', '', 'The categories to remove from debug logging'),
    ],
    result:
      '{                   (json object) keys are the logging categories, and values indicates its status\n' +
      '  "category" : true|false,    (boolean) if being debug logged or not. false:inactive, true:active\n  ...\n}',
    examples: [[['all'], ['net']]],
  },
  prioritisetransaction: {
    summary: 'Accepts the transaction into mined blocks at a higher (or lower) priority',
    args: [
      req('txid', 'string', 'The transaction id.'),
      opt(
        'dummy',
        'numeric',
        '',
        'API-Compatibility for previous API. Must be zero or null.\nDEPRECATED. For forward compatibility use named arguments and omit this parameter.',
      ),
      req(
        'fee_delta',
        'numeric',
        'The fee value (in satoshis) to add (or subtract, if negative).\n' +
          'Note, that this value is not a fee rate. It is a value to modify absolute fee of the TX.\n' +
          'The fee is not actually paid, only the algorithm for selecting transactions into a block\n' +
          'considers the transaction as it would have paid a higher (or lower) fee.',
      ),
    ],
    result: 'true|false    (boolean) Returns true',
    examples: [[TXID, 0, 10000]],
  },
  getprioritisedtransactions: {
    summary:
      'Returns a map of all user-created (see prioritisetransaction) fee deltas by txid, and whether the tx is present in mempool.',
    args: [],
    result:
      '{                                 (json object) prioritisation keyed by txid\n' +
      '  "<transactionid>" : {           (json object)\n' +
      '    "fee_delta" : n,              (numeric) transaction fee delta in satoshis\n' +
      '    "in_mempool" : true|false,    (boolean) whether this transaction is currently in mempool\n' +
      '    "modified_fee" : n            (numeric, optional) modified fee in satoshis. Only returned if in_mempool=true\n' +
      '  },\n  ...\n}',
    examples: [[]],
  },
  setnetworkactive: {
    summary: 'Disable/enable all p2p network activity.',
    args: [req('state', 'boolean', 'true to enable networking, false to disable')],
    result: 'true|false    (boolean) The value that was passed in',
    examples: [[false]],
  },
  preciousblock: {
    summary:
      'Treats a block as if it were received before others with the same work.\n\n' +
      'A later preciousblock call can override the effect of an earlier one.\n\n' +
      'The effects of preciousblock are not retained across restarts.',
    args: [req('blockhash', 'string', 'the hash of the block to mark as precious')],
    result: 'null    (json null)',
    examples: [[HASH]],
  },
  getblockfrompeer: {
    summary:
      'Attempt to fetch block from a given peer.\n\n' +
      'We must have the header for this block, e.g. using submitheader.\n' +
      'The block will not have been fetched when this call returns: check getblock or getchaintips.\n\n' +
      'Returns an empty JSON object if the request was successfully scheduled.',
    args: [
      req('blockhash', 'string', 'The block hash to try to fetch'),
      req('peer_id', 'numeric', 'The peer to fetch it from (see getpeerinfo for peer IDs)'),
    ],
    result: '{}    (json object) (empty JSON object)',
    examples: [[HASH, 0]],
  },
};

// Method table (see catalog.ts): Blockchain, Control, Util and Zmq methods, worded after
// Bitcoin Core v29's help text, with Tally's differences said where there are some.
import type { MethodDoc } from './catalog-args.js';
import { opt, req } from './catalog-args.js';

const HASH = '00000000c937983704a73af28acdec37b049d214adbda81d7e2a3dd146f6ed09';
const TXID = 'mytxid';

const blockhash = req('blockhash', 'string', 'The block hash');

export const CHAIN_DOCS: Record<string, MethodDoc> = {
  getbestblockhash: {
    summary: 'Returns the hash of the best (tip) block in the most-work fully-validated chain.',
    args: [],
    result: '"hex"    (string) the block hash, hex-encoded',
    examples: [[]],
  },
  getblockcount: {
    summary: 'Returns the height of the most-work fully-validated chain.\nThe genesis block has height 0.',
    args: [],
    result: 'n    (numeric) The current block count',
    examples: [[]],
  },
  getdifficulty: {
    summary: 'Returns the proof-of-work difficulty as a multiple of the minimum difficulty.',
    args: [],
    result: 'n    (numeric) the proof-of-work difficulty as a multiple of the minimum difficulty.',
    examples: [[]],
  },
  getblockhash: {
    summary: 'Returns hash of block in best-block-chain at height provided.',
    args: [req('height', 'numeric', 'The height index')],
    result: '"hex"    (string) The block hash',
    examples: [[1000]],
  },
  getblockchaininfo: {
    summary: 'Returns an object containing various state info regarding blockchain processing.',
    args: [],
    result:
      '{\n  "chain" : "str",                  (string) current network name (main, test, regtest)\n' +
      '  "blocks" : n,                     (numeric) the height of the most-work fully-validated chain\n' +
      '  "headers" : n,                    (numeric) the current number of headers we have validated\n' +
      '  "bestblockhash" : "str",          (string) the hash of the currently best block\n' +
      '  "bits" : "hex",                   (string) nBits: compact representation of the block difficulty target\n' +
      '  "target" : "hex",                 (string) The difficulty target\n' +
      '  "difficulty" : n,                 (numeric) the current difficulty\n' +
      '  "time" : xxx,                     (numeric) The block time expressed in UNIX epoch time\n' +
      '  "mediantime" : xxx,               (numeric) The median block time expressed in UNIX epoch time\n' +
      '  "verificationprogress" : n,       (numeric) estimate of verification progress [0..1]\n' +
      '  "initialblockdownload" : true|false, (boolean) estimate of whether this node is in Initial Block Download mode\n' +
      '  "chainwork" : "hex",              (string) total amount of work in active chain, in hexadecimal\n' +
      '  "size_on_disk" : n,               (numeric) the estimated size of the block and undo files on disk\n' +
      '  "pruned" : true|false,            (boolean) if the blocks are subject to pruning\n' +
      '  "warnings" : [ "str", ... ]       (json array) any network and blockchain warnings\n}',
    examples: [[]],
  },
  getblock: {
    summary:
      "If verbosity is 0, returns a string that is serialized, hex-encoded data for block 'hash'.\n" +
      'If verbosity is 1, returns an Object with information about block <hash>.\n' +
      'If verbosity is 2, returns an Object with information about block <hash> and information about each transaction.\n' +
      'If verbosity is 3, returns an Object with information about block <hash> and information about each transaction, including prevout information for inputs.',
    args: [
      blockhash,
      opt(
        'verbosity',
        'numeric',
        '1',
        '0 for hex-encoded data, 1 for a JSON object, 2 for JSON object with transaction data, and 3 for JSON object with transaction data including prevout information for inputs',
      ),
    ],
    result:
      'Result (for verbosity = 0):\n"hex"    (string) A string that is serialized, hex-encoded data for block \'hash\'\n\n' +
      'Result (for verbosity = 1):\n{\n  "hash" : "hex", "confirmations" : n, "size" : n, "strippedsize" : n, "weight" : n,\n' +
      '  "height" : n, "version" : n, "versionHex" : "hex", "merkleroot" : "hex", "tx" : [ "hex", ... ],\n' +
      '  "time" : xxx, "mediantime" : xxx, "nonce" : n, "bits" : "hex", "target" : "hex", "difficulty" : n,\n' +
      '  "chainwork" : "hex", "nTx" : n, "previousblockhash" : "hex", "nextblockhash" : "hex"\n}\n\n' +
      'Result (for verbosity = 2): as 1, with "tx" : [ {…getrawtransaction fields, "fee" : n}, ... ]\n' +
      'Result (for verbosity = 3): as 2, each vin with "prevout" : {"generated", "height", "value", "scriptPubKey"}',
    examples: [[HASH], [HASH, 2]],
  },
  getblockheader: {
    summary:
      "If verbose is false, returns a string that is serialized, hex-encoded data for blockheader 'hash'.\n" +
      'If verbose is true, returns an Object with information about blockheader <hash>.',
    args: [
      blockhash,
      opt('verbose', 'boolean', 'true', 'true for a json object, false for the hex-encoded data'),
    ],
    result:
      'Result (for verbose = true):\n{\n  "hash" : "hex", "confirmations" : n, "height" : n, "version" : n, "versionHex" : "hex",\n' +
      '  "merkleroot" : "hex", "time" : xxx, "mediantime" : xxx, "nonce" : n, "bits" : "hex", "target" : "hex",\n' +
      '  "difficulty" : n, "chainwork" : "hex", "nTx" : n, "previousblockhash" : "hex", "nextblockhash" : "hex"\n}\n\n' +
      'Result (for verbose=false):\n"hex"    (string) A string that is serialized, hex-encoded data for block \'hash\'',
    examples: [[HASH]],
  },
  getchaintips: {
    summary:
      'Return information about all known tips in the block tree, including the main chain as well as orphaned branches.',
    args: [],
    result:
      '[\n  {\n    "height" : n,        (numeric) height of the chain tip\n    "hash" : "hex",      (string) block hash of the tip\n' +
      '    "branchlen" : n,     (numeric) zero for main chain, otherwise length of branch connecting the tip to the main chain\n' +
      '    "status" : "str"     (string) "invalid", "headers-only", "valid-headers", "valid-fork" or "active"\n  },\n  ...\n]',
    examples: [[]],
  },
  gettxout: {
    summary: 'Returns details about an unspent transaction output.',
    args: [
      req('txid', 'string', 'The transaction id'),
      req('n', 'numeric', 'vout number'),
      opt(
        'include_mempool',
        'boolean',
        'true',
        "Whether to include the mempool. Note that an unspent output that is spent in the mempool won't appear.",
      ),
    ],
    result:
      'null    (json null) If the UTXO was not found\n\nOtherwise:\n{\n  "bestblock" : "hex", "confirmations" : n, "value" : n,\n' +
      '  "scriptPubKey" : { "asm" : "str", "desc" : "str", "hex" : "hex", "type" : "str", "address" : "str" },\n  "coinbase" : true|false\n}',
    examples: [[TXID, 1]],
  },
  gettxoutproof: {
    summary:
      'Returns a hex-encoded proof that "txid" was included in a block.\n\n' +
      'NOTE: By default this function only works sometimes. This is when there is an\n' +
      'unspent output in the utxo for this transaction. To make it always work,\n' +
      'you need to maintain a transaction index, using the -txindex command line option or\n' +
      'specify the block in which the transaction is included manually (by blockhash).\n' +
      "The proof is Bitcoin Core's CMerkleBlock: the block header, the block's transaction count,\n" +
      'the hashes of a partial merkle tree and its flag bits (docs/rpc.md).',
    args: [
      req('txids', 'array', 'The txids to filter: ["txid",...], each a transaction hash'),
      opt('blockhash', 'string', '', 'If specified, looks for txid in the block with this hash'),
    ],
    result: '"str"    (string) A string that is a serialized, hex-encoded data for the proof.',
    examples: [[[TXID]], [[TXID], HASH]],
  },
  verifytxoutproof: {
    summary:
      'Verifies that a proof points to a transaction in a block, returning the transaction it commits to\n' +
      'and throwing an RPC error if the block is not in our best chain',
    args: [req('proof', 'string', 'The hex-encoded proof generated by gettxoutproof')],
    result:
      '[           (json array)\n  "hex",    (string) The txid(s) which the proof commits to, or empty array if the proof cannot be validated.\n  ...\n]',
    examples: [['proof']],
  },
  gettxoutsetinfo: {
    summary:
      'Returns statistics about the unspent transaction output set.\nNote this call may take some time if you are not using coinstatsindex.',
    args: [
      opt(
        'hash_type',
        'string',
        '"hash_serialized_3"',
        "Which UTXO set hash should be calculated. Options: 'hash_serialized_3' (the legacy algorithm), 'muhash', 'none'.",
      ),
      opt(
        'hash_or_height',
        'json',
        '',
        'The block hash or height of the target height (only available with coinstatsindex).',
      ),
      opt('use_index', 'boolean', 'true', 'Use coinstatsindex, if available.'),
    ],
    result:
      '{\n  "height" : n, "bestblock" : "hex", "txouts" : n, "bogosize" : n,\n' +
      '  "hash_serialized_3" : "hex",   (only with hash_type hash_serialized_3)\n' +
      '  "muhash" : "hex",              (only with hash_type muhash)\n' +
      '  "transactions" : n, "disk_size" : n,   (not when coinstatsindex is used)\n' +
      '  "total_amount" : n,\n' +
      '  "total_unspendable_amount" : n,        (only when coinstatsindex is used)\n' +
      '  "block_info" : {                       (only when coinstatsindex is used)\n' +
      '    "prevout_spent" : n, "coinbase" : n, "new_outputs_ex_coinbase" : n, "unspendable" : n,\n' +
      '    "unspendables" : { "genesis_block" : n, "bip30" : n, "scripts" : n, "unclaimed_rewards" : n }\n' +
      '  }\n}',
    examples: [[], ['none'], ['none', 1000]],
  },
  dumptxoutset: {
    summary:
      "Write the serialized UTXO set to a file (Bitcoin Core v29's snapshot format). The node goes on\n" +
      'connecting blocks meanwhile: the set is read from a database snapshot taken at the start.',
    args: [
      req('path', 'string', 'Path to the output file. If relative, will be prefixed by datadir.'),
      opt(
        'type',
        'string',
        '""',
        'The type of snapshot to create. Can be "latest" to create a snapshot of the current UTXO set or "rollback" to\n' +
          'create the snapshot of the UTXO set at an earlier block of the active chain, named by the "rollback" option\n' +
          "(required: this network's assumeutxo table has no snapshot heights). The chain is not moved: the earlier\n" +
          'set is computed from the blocks above it and their undo data.',
      ),
      opt(
        'options',
        'object',
        '',
        '{ "rollback": n or "hex" }  Height or hash of the block of the active chain to dump the UTXO set at.',
      ),
    ],
    result:
      '{\n  "coins_written" : n,     (numeric) the number of coins written in the snapshot\n' +
      '  "base_hash" : "hex",     (string) the hash of the base of the snapshot\n' +
      '  "base_height" : n,       (numeric) the height of the base of the snapshot\n' +
      '  "path" : "str",          (string) the absolute path that the snapshot was written to\n' +
      '  "txoutset_hash" : "hex", (string) the hash of the UTXO set contents (hash_serialized_3)\n' +
      '  "nchaintx" : n           (numeric) the number of transactions in the chain up to and including the base block\n}',
    examples: [['utxo.dat', 'latest']],
  },
  loadtxoutset: {
    summary:
      "Load the serialized UTXO set from a file. Only snapshots whose base block is in the chain's\n" +
      "assumeutxo table load; Tally's table has no entries yet, so every snapshot is refused after its\n" +
      'metadata (magic, version, network, base block, coin count) is read and checked.',
    args: [req('path', 'string', 'path to the snapshot file. If relative, will be prefixed by datadir.')],
    result: '{\n  "coins_loaded" : n, "tip_hash" : "hex", "base_height" : n, "path" : "str"\n}',
    examples: [['utxo.dat']],
  },
  scantxoutset: {
    summary:
      'Scans the unspent transaction output set for entries that match certain output descriptors.\n' +
      'Examples of output descriptors are:\n' +
      '    addr(<address>)      Outputs whose output script corresponds to the specified address (does not include P2PK)\n' +
      '    raw(<hex script>)    Outputs whose output script equals the specified hex-encoded bytes\n' +
      '    combo(<pubkey>)      P2PK and P2PKH outputs for the given pubkey (no SegWit forms on a pre-SegWit chain)\n' +
      '    pkh(<pubkey>)        P2PKH outputs for the given pubkey\n' +
      '    pk(<pubkey>)         P2PK outputs for the given pubkey\n' +
      '    sh(multi(<n>,<pubkey>,<pubkey>,...)) P2SH-multisig outputs for the given threshold and pubkeys\n' +
      '\nIn the above, <pubkey> either refers to a fixed public key in hexadecimal notation (or a WIF private key), or to an\n' +
      'xpub/xprv optionally followed by one or more path elements separated by "/", and optionally ending in "/*" (unhardened),\n' +
      'or "/*\'" or "/*h" (hardened) to specify all unhardened or hardened child keys. In the latter case, a range needs to be\n' +
      'specified below if different from 1000.',
    args: [
      req(
        'action',
        'string',
        'The action to execute\n"start" for starting a scan\n"abort" for aborting the current scan (returns true when abort was successful)\n"status" for progress report (in %) of the current scan',
      ),
      opt(
        'scanobjects',
        'array',
        '',
        'Array of scan objects. Required for "start" action. Every scan object is either a string descriptor or an object\n' +
          '{"desc": descriptor, "range": end or [begin,end]} (range: the positions of a ranged descriptor, default 1000)',
      ),
    ],
    result:
      'When action==\'start\'; only returns after scan completes\n{\n  "success" : true|false, "txouts" : n, "height" : n, "bestblock" : "hex",\n' +
      '  "unspents" : [ { "txid" : "hex", "vout" : n, "scriptPubKey" : "hex", "desc" : "str", "amount" : n,\n' +
      '                   "coinbase" : true|false, "height" : n, "blockhash" : "hex", "confirmations" : n }, ... ],\n' +
      '  "total_amount" : n\n}\n\nWhen action==\'abort\': true|false\n\nWhen action==\'status\': { "progress" : n } or null',
    examples: [
      ['start', ['raw(76a91411b366edfc0a8b66feebae5c2e25a7b6a5d1cf3188ac)#fm24fxxy']],
      ['status'],
      ['abort'],
    ],
  },
  getmempoolinfo: {
    summary: 'Returns details on the active state of the TX memory pool.',
    args: [],
    result:
      '{\n  "loaded" : true|false, "size" : n, "bytes" : n, "usage" : n, "total_fee" : n, "maxmempool" : n,\n' +
      '  "mempoolminfee" : n, "minrelaytxfee" : n, "incrementalrelayfee" : n, "unbroadcastcount" : n, "fullrbf" : true|false\n}',
    examples: [[]],
  },
  getrawmempool: {
    summary: 'Returns all transaction ids in memory pool as a json array of string transaction ids.',
    args: [
      opt('verbose', 'boolean', 'false', 'True for a json object, false for array of transaction ids'),
      opt(
        'mempool_sequence',
        'boolean',
        'false',
        'If verbose=false, returns a json object with transaction list and mempool sequence number attached.',
      ),
    ],
    result:
      'Result (for verbose = false):\n[ "hex", ... ]\n\nResult (for verbose = true):\n{ "transactionid" : { …getmempoolentry… }, ... }',
    examples: [[true]],
  },
  getmempoolentry: {
    summary: 'Returns mempool data for given transaction',
    args: [req('txid', 'string', 'The transaction id (must be in mempool)')],
    result:
      '{\n  "vsize" : n, "weight" : n, "time" : xxx, "height" : n, "descendantcount" : n, "descendantsize" : n,\n' +
      '  "ancestorcount" : n, "ancestorsize" : n, "wtxid" : "hex",\n  "fees" : { "base" : n, "modified" : n, "ancestor" : n, "descendant" : n },\n' +
      '  "depends" : [ "hex", ... ], "spentby" : [ "hex", ... ], "bip125-replaceable" : true|false, "unbroadcast" : true|false\n}',
    examples: [[TXID]],
  },
  getorphantxs: {
    summary:
      'Shows transactions in the tx orphanage.\n\nEXPERIMENTAL warning: this call may be changed in future releases.',
    args: [
      opt(
        'verbosity',
        'numeric',
        '0',
        '0 for an array of txids (may contain duplicates), 1 for an array of objects with tx details, and 2 for details from (1) and tx hex',
      ),
    ],
    result:
      'Result (verbosity = 0):\n[ "hex", ... ]\n\nResult (verbosity = 1):\n[ { "txid" : "hex", "wtxid" : "hex", "bytes" : n, "vsize" : n, "weight" : n,\n' +
      '    "entry" : xxx, "expiration" : xxx, "from" : [ n, ... ] }, ... ]\n\nResult (verbosity = 2):\n[ { …as 1…, "hex" : "hex" }, ... ]',
    examples: [[], [1], [2]],
  },
  invalidateblock: {
    summary: 'Permanently marks a block as invalid, as if it violated a consensus rule.',
    args: [req('blockhash', 'string', 'the hash of the block to mark as invalid')],
    result: 'null    (json null)',
    examples: [[HASH]],
  },
  reconsiderblock: {
    summary:
      'Removes invalidity status of a block, its ancestors and its descendants, reconsider them for activation.\nThis can be used to undo the effects of invalidateblock.',
    args: [req('blockhash', 'string', 'the hash of the block to reconsider')],
    result: 'null    (json null)',
    examples: [[HASH]],
  },
  estimatesmartfee: {
    summary:
      'Estimates the approximate fee per kilobyte needed for a transaction to begin\nconfirmation within conf_target blocks if possible and return the number of blocks\nfor which the estimate is valid.',
    args: [
      req('conf_target', 'numeric', 'Confirmation target in blocks (1 - 1008)'),
      opt(
        'estimate_mode',
        'string',
        '"economical"',
        'The fee estimate mode: "unset", "economical" or "conservative"',
      ),
    ],
    result:
      '{\n  "feerate" : n,          (numeric, optional) estimate fee rate in TLY/kvB\n  "errors" : [ "str", ... ], (json array, optional) Errors encountered during processing\n' +
      '  "blocks" : n            (numeric) block number where estimate was found\n}',
    examples: [[6]],
  },
  validateaddress: {
    summary: 'Return information about the given address.',
    args: [req('address', 'string', 'The address to validate')],
    result:
      '{\n  "isvalid" : true|false, "address" : "str", "scriptPubKey" : "hex", "isscript" : true|false,\n' +
      '  "iswitness" : true|false, "error_locations" : [ n, ... ], "error" : "str"\n}',
    examples: [['mzBc4XEFSdzCDcTxAgf6EZXgsZWpztRhef']],
  },
  getdescriptorinfo: {
    summary: 'Analyses a descriptor.',
    args: [req('descriptor', 'string', 'The descriptor.')],
    result:
      '{\n  "descriptor" : "str",         (string) The descriptor in canonical form, without private keys\n' +
      '  "checksum" : "str",           (string) The checksum for the input descriptor\n' +
      '  "isrange" : true|false,       (boolean) Whether the descriptor is ranged\n' +
      '  "issolvable" : true|false,    (boolean) Whether the descriptor is solvable\n' +
      '  "hasprivatekeys" : true|false (boolean) Whether the input descriptor contained at least one private key\n}',
    examples: [
      ['pkh([d34db33f/44h/0h/0h]0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798)'],
    ],
  },
  deriveaddresses: {
    summary:
      'Derives one or more addresses corresponding to an output descriptor.\n' +
      'Examples of output descriptors are:\n' +
      '    pkh(<pubkey>)                         P2PKH outputs for the given pubkey\n' +
      '    sh(multi(<n>,<pubkey>,<pubkey>,...))  P2SH-multisig outputs for the given threshold and pubkeys\n' +
      '    raw(<hex script>)                     Outputs whose output script equals the specified hex-encoded bytes\n' +
      '\nIn the above, <pubkey> either refers to a fixed public key in hexadecimal notation, or to an xpub/xprv optionally followed by one\n' +
      'or more path elements separated by "/", where "h" represents a hardened child key.\n' +
      'SegWit and Taproot descriptors (wpkh, wsh, tr) do not apply to a pre-SegWit chain.',
    args: [
      req('descriptor', 'string', 'The descriptor, with its checksum.'),
      opt(
        'range',
        'json',
        '',
        'If a ranged descriptor is used, this specifies the end or the range (in [begin,end] notation) to derive.',
      ),
    ],
    result: '[\n  "str",    (string) the derived addresses\n  ...\n]',
    examples: [
      [
        'pkh([d34db33f/44h/0h/0h]xpub6DJ2dNUysrn5Vt36jH2KLBT2i1auw1tTSSomg8PhqNiUtx8QX2SvC9nrHu81fT41fvDUnhMjEzQgXnQjKEu3oaqMSzhSrHMxyyoEAmUHQbY/0/*)#fqah9p4x',
        [0, 2],
      ],
    ],
  },
  getindexinfo: {
    summary: 'Returns the status of one or all available indices currently running in the node.',
    args: [opt('index_name', 'string', '', 'Filter results for an index with a specific name.')],
    result:
      '{\n  "name" : {                       (json object) The name of the index\n    "synced" : true|false,        (boolean) Whether the index is synced or not\n    "best_block_height" : n       (numeric) The block height to which the index is synced\n  }\n}',
    examples: [[], ['txindex']],
  },
  getblockfilter: {
    summary: 'Retrieve a BIP 157 content filter for a particular block.',
    args: [
      req('blockhash', 'string', 'The hash of the block'),
      opt('filtertype', 'string', '"basic"', 'The type name of the filter'),
    ],
    result:
      '{\n  "filter" : "hex",    (string) the hex-encoded filter data\n  "header" : "hex"     (string) the hex-encoded filter header\n}',
    examples: [[HASH, 'basic']],
  },
  getzmqnotifications: {
    summary: 'Returns information about the active ZeroMQ notifications.',
    args: [],
    result:
      '[\n  {\n    "type" : "str",       (string) Type of notification\n    "address" : "str",    (string) Address of the publisher\n    "hwm" : n             (numeric) Outbound message high water mark\n  },\n  ...\n]',
    examples: [[]],
  },
  help: {
    summary: 'List all commands, or get help for a specified command.',
    args: [opt('command', 'string', 'all commands', 'The command to get help on')],
    result: '"str"    (string) The help text',
    examples: [[], ['getblock']],
  },
  stop: {
    summary: 'Request a graceful shutdown of Tally.',
    args: [],
    result: '"str"    (string) A string with the content \'Tally server stopping\'',
    examples: [[]],
  },
  uptime: {
    summary: 'Returns the total uptime of the server.',
    args: [],
    result: 'n    (numeric) The number of seconds that the server has been running',
    examples: [[]],
  },
};

// Method table (see catalog.ts): Mining, Generating, Network and Rawtransactions methods, worded
// after Bitcoin Core v29's help text, with Tally's differences said where there are some.
import type { MethodDoc } from './catalog-args.js';
import { opt, req } from './catalog-args.js';

const ADDR = 'mzBc4XEFSdzCDcTxAgf6EZXgsZWpztRhef';
const NOARGS = { args: [], examples: [[]] };
const maxfeerate = opt(
  'maxfeerate',
  'amount',
  '"0.10"',
  'Reject transactions whose fee rate is higher than the specified value, expressed in TLY/kvB. Set to 0 to accept any fee rate.',
);

export const OTHER_DOCS: Record<string, MethodDoc> = {
  getblocktemplate: {
    summary:
      "If the request parameters include a 'mode' key, that is used to explicitly select between the default 'template' request or a 'proposal'.\n" +
      'It returns data needed to construct a block to work on.\nFor full specification, see BIPs 22, 23, 9, and 145.',
    args: [
      opt(
        'template_request',
        'object',
        '{}',
        'Format of the template: {"mode": "template"|"proposal", "capabilities": [...], "rules": [...], "longpollid": "str", "data": "hex"}',
      ),
    ],
    result:
      'If the proposal was accepted with mode==\'proposal\': null\nIf the proposal was not accepted: "str" (the reason)\nOtherwise:\n' +
      '{\n  "version" : n, "rules" : [ "str", ... ], "vbavailable" : {}, "capabilities" : [ "str", ... ], "vbrequired" : n,\n' +
      '  "previousblockhash" : "str", "transactions" : [ { "data" : "hex", "txid" : "hex", "hash" : "hex", "depends" : [ n, ... ],\n' +
      '  "fee" : n, "sigops" : n, "weight" : n }, ... ], "coinbaseaux" : {}, "coinbasevalue" : n, "longpollid" : "str",\n' +
      '  "target" : "str", "mintime" : xxx, "mutable" : [ "str", ... ], "noncerange" : "hex", "sigoplimit" : n,\n' +
      '  "sizelimit" : n, "weightlimit" : n, "curtime" : xxx, "bits" : "str", "height" : n\n}',
    examples: [[{ rules: [] }]],
  },
  submitblock: {
    summary:
      'Attempts to submit new block to network.\nSee https://en.bitcoin.it/wiki/BIP_0022 for full specification.',
    args: [
      req('hexdata', 'string', 'the hex-encoded block data to submit'),
      opt('dummy', 'string', 'ignored', 'dummy value, for compatibility with BIP22. This value is ignored.'),
    ],
    result: 'null    (json null) When the block was accepted\n"str"   (string) Otherwise, according to BIP22',
    examples: [['mydata']],
  },
  getmininginfo: {
    summary: 'Returns a json object containing mining-related information.',
    ...NOARGS,
    result:
      '{\n  "blocks" : n, "currentblocksize" : n, "currentblockweight" : n, "currentblocktx" : n, "bits" : "hex",\n' +
      '  "difficulty" : n, "target" : "hex", "networkhashps" : n, "pooledtx" : n, "chain" : "str",\n' +
      '  "next" : { "height" : n, "bits" : "hex", "difficulty" : n, "target" : "hex" },\n  "warnings" : [ "str", ... ]\n}',
  },
  getnetworkhashps: {
    summary:
      'Returns the estimated network hashes per second based on the last n blocks.\nPass in [blocks] to override # of blocks, -1 specifies since last difficulty change.\nPass in [height] to estimate the network speed at the time when a certain block was found.',
    args: [
      opt(
        'nblocks',
        'numeric',
        '120',
        'The number of previous blocks to calculate estimate from, or -1 for blocks since last difficulty change.',
      ),
      opt('height', 'numeric', '-1', 'To estimate at the time of the given height.'),
    ],
    result: 'n    (numeric) Hashes per second estimated',
    examples: [[]],
  },
  generatetoaddress: {
    summary: 'Mine to a specified address and return the block hashes.',
    args: [
      req('nblocks', 'numeric', 'How many blocks are generated.'),
      req('address', 'string', 'The address to send the newly generated coins to.'),
      opt('maxtries', 'numeric', '1000000', 'How many iterations to try.'),
    ],
    result: '[ "hex", ... ]    (json array) hashes of blocks generated',
    examples: [[11, ADDR]],
  },
  generateblock: {
    summary:
      'Mine a set of ordered transactions to a specified address or descriptor and return the block hash.',
    args: [
      req('output', 'string', 'The address or descriptor to send the newly generated coins to.'),
      req(
        'transactions',
        'array',
        'An array of hex strings which are either txids or raw transactions.\n' +
          'Txids must reference transactions currently in the mempool.\n' +
          'All transactions must be valid and in valid order, otherwise the block will be rejected.',
      ),
      opt(
        'submit',
        'boolean',
        'true',
        'Whether to submit the block before the RPC call returns or to return it as hex.',
      ),
    ],
    result:
      '{\n  "hash" : "hex",    (string) hash of generated block\n  "hex" : "hex"      (string, optional) hex of generated block, only present when submit=false\n}',
    examples: [[ADDR, ['rawtx', 'mempool_txid']]],
  },
  generatetodescriptor: {
    summary: 'Mine to a specified descriptor and return the block hashes.',
    args: [
      req('num_blocks', 'numeric', 'How many blocks are generated.'),
      req('descriptor', 'string', 'The descriptor to send the newly generated coins to.'),
      opt('maxtries', 'numeric', '1000000', 'How many iterations to try.'),
    ],
    result: '[ "hex", ... ]    (json array) hashes of blocks generated',
    examples: [[11, 'pkh(0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798)']],
  },
  getpeerinfo: {
    summary: 'Returns data about each connected network peer as a json array of objects.',
    ...NOARGS,
    result:
      '[\n  {\n    "id" : n, "addr" : "str", "addrbind" : "str", "addrlocal" : "str", "network" : "str", "mapped_as" : n,\n' +
      '    "services" : "hex", "servicesnames" : [ "str", ... ], "relaytxes" : true|false, "lastsend" : xxx, "lastrecv" : xxx,\n' +
      '    "last_transaction" : xxx, "last_block" : xxx, "bytessent" : n, "bytesrecv" : n, "conntime" : xxx, "timeoffset" : n,\n' +
      '    "pingtime" : n, "minping" : n, "pingwait" : n, "version" : n, "subver" : "str", "inbound" : true|false,\n' +
      '    "bip152_hb_to" : true|false, "bip152_hb_from" : true|false, "startingheight" : n, "presynced_headers" : n,\n' +
      '    "synced_headers" : n, "synced_blocks" : n, "inflight" : [ n, ... ], "addr_relay_enabled" : true|false,\n' +
      '    "addr_processed" : n, "addr_rate_limited" : n, "permissions" : [ "str", ... ], "minfeefilter" : n,\n' +
      '    "bytessent_per_msg" : { "msg" : n, ... }, "bytesrecv_per_msg" : { "msg" : n, ... },\n' +
      '    "connection_type" : "str", "transport_protocol_type" : "str", "session_id" : "str"\n  },\n  ...\n]',
  },
  getnetworkinfo: {
    summary: 'Returns an object containing various state info regarding P2P networking.',
    ...NOARGS,
    result:
      '{\n  "version" : n, "subversion" : "str", "protocolversion" : n, "localservices" : "hex",\n' +
      '  "localservicesnames" : [ "str", ... ], "localrelay" : true|false, "timeoffset" : n, "connections" : n,\n' +
      '  "connections_in" : n, "connections_out" : n, "networkactive" : true|false, "networks" : [ {…}, ... ],\n' +
      '  "relayfee" : n, "incrementalfee" : n, "localaddresses" : [ {…}, ... ], "warnings" : [ "str", ... ]\n}',
  },
  getconnectioncount: {
    summary: 'Returns the number of connections to other nodes.',
    ...NOARGS,
    result: 'n    (numeric) The connection count',
  },
  addnode: {
    summary:
      'Attempts to add or remove a node from the addnode list.\nOr try a connection to a node once.\nNodes added using addnode (or -connect) are protected from DoS disconnection and are not required to be\nfull nodes as other outbound peers are (though such peers will not be synced from).',
    args: [
      req('node', 'string', 'The address of the peer to connect to'),
      req(
        'command',
        'string',
        "'add' to add a node to the list, 'remove' to remove a node from the list, 'onetry' to try a connection to the node once",
      ),
      opt(
        'v2transport',
        'boolean',
        'false',
        "Attempt to connect using BIP324 v2 transport protocol (ignored for 'remove' command)",
      ),
    ],
    result: 'null    (json null)',
    examples: [['ws://192.168.0.6:8533', 'onetry']],
  },
  getaddednodeinfo: {
    summary:
      'Returns information about the given added node, or all added nodes\n(note that onetry addnodes are not listed here)',
    args: [
      opt(
        'node',
        'string',
        'all nodes',
        'If provided, return information about this specific node, otherwise all nodes are returned.',
      ),
    ],
    result:
      '[\n  {\n    "addednode" : "str", "connected" : true|false,\n    "addresses" : [ { "address" : "str", "connected" : "str" }, ... ]\n  },\n  ...\n]',
    examples: [['ws://192.168.0.201:8533']],
  },
  disconnectnode: {
    summary:
      "Immediately disconnects from the specified peer node.\n\nStrictly one out of 'address' and 'nodeid' can be provided to identify the node.",
    args: [
      opt('address', 'string', 'fallback to nodeid', 'The IP address/port of the node'),
      opt('nodeid', 'numeric', 'fallback to address', 'The node ID (see getpeerinfo for node IDs)'),
    ],
    result: 'null    (json null)',
    examples: [['192.168.0.6:8533'], ['', 1]],
  },
  setban: {
    summary: 'Attempts to add or remove an IP/Subnet from the banned list.',
    args: [
      req(
        'subnet',
        'string',
        'The IP/Subnet (see getpeerinfo for nodes IP) with an optional netmask (default is /32 = single IP)',
      ),
      req(
        'command',
        'string',
        "'add' to add an IP/Subnet to the list, 'remove' to remove an IP/Subnet from the list",
      ),
      opt(
        'bantime',
        'numeric',
        '0',
        'time in seconds how long (or until when if [absolute] is set) the IP is banned (0 or empty means using the default time of 24h)',
      ),
      opt(
        'absolute',
        'boolean',
        'false',
        'If set, the bantime must be an absolute timestamp expressed in UNIX epoch time',
      ),
    ],
    result: 'null    (json null)',
    examples: [['192.168.0.6', 'add', 86400]],
  },
  listbanned: {
    summary: 'List all manually banned IPs/Subnets.',
    ...NOARGS,
    result:
      '[\n  {\n    "address" : "str", "ban_created" : xxx, "banned_until" : xxx, "ban_duration" : xxx, "time_remaining" : xxx\n  },\n  ...\n]',
  },
  clearbanned: { summary: 'Clear all banned IPs.', ...NOARGS, result: 'null    (json null)' },
  ping: {
    summary:
      'Requests that a ping be sent to all other nodes, to measure ping time.\nResults provided in getpeerinfo, pingtime and pingwait fields are decimal seconds.\nPing command is handled in queue with all other commands, so it measures processing backlog, not just network ping.',
    ...NOARGS,
    result: 'null    (json null)',
  },
  getnettotals: {
    summary:
      'Returns information about network traffic, including bytes in, bytes out,\nand current system time.',
    ...NOARGS,
    result:
      '{\n  "totalbytesrecv" : n, "totalbytessent" : n, "timemillis" : xxx,\n' +
      '  "uploadtarget" : { "timeframe" : n, "target" : n, "target_reached" : true|false, "serve_historical_blocks" : true|false,\n' +
      '  "bytes_left_in_cycle" : n, "time_left_in_cycle" : n }\n}',
  },
  getrawtransaction: {
    summary:
      'By default, this call only returns a transaction if it is in the mempool. If -txindex is enabled\nand no blockhash argument is passed, it will return the transaction if it is in a block in the blockchain.\n\n' +
      'If a blockhash argument is passed, it will return the transaction if\nthe specified block is available and the transaction is in that block.\n\n' +
      'If verbosity is 0 or omitted, returns the serialized transaction as a hex-encoded string.\nIf verbosity is 1, returns a JSON Object with information about the transaction.\n' +
      'If verbosity is 2, returns a JSON Object with information about the transaction, including fee and prevout information.',
    args: [
      req('txid', 'string', 'The transaction id'),
      opt(
        'verbosity',
        'numeric',
        '0',
        '0 for hex-encoded data, 1 for a JSON object, and 2 for JSON object with fee and prevout',
      ),
      opt('blockhash', 'string', '', 'The block in which to look for the transaction'),
    ],
    result:
      'Result (if verbosity is not set or set to 0):\n"str"    (string) The serialized transaction as a hex-encoded string for \'txid\'\n\n' +
      'Result (if verbosity is set to 1):\n{\n  "in_active_chain" : true|false, "blockhash" : "hex", "confirmations" : n, "blocktime" : xxx, "time" : n,\n' +
      '  "hex" : "hex", "txid" : "hex", "hash" : "hex", "size" : n, "vsize" : n, "weight" : n, "version" : n, "locktime" : xxx,\n' +
      '  "vin" : [ {…}, ... ], "vout" : [ {…}, ... ]\n}\n\n' +
      'Result (for verbose = 2): as 1, with "fee" : n and each vin with "prevout" : { "generated", "height", "value", "scriptPubKey" }',
    examples: [['mytxid'], ['mytxid', 1]],
  },
  decoderawtransaction: {
    summary: 'Return a JSON object representing the serialized, hex-encoded transaction.',
    args: [req('hexstring', 'string', 'The transaction hex string')],
    result:
      '{\n  "txid" : "hex", "hash" : "hex", "size" : n, "vsize" : n, "weight" : n, "version" : n, "locktime" : xxx,\n' +
      '  "vin" : [ { "coinbase" : "hex", "txid" : "hex", "vout" : n, "scriptSig" : { "asm" : "str", "hex" : "hex" }, "sequence" : n }, ... ],\n' +
      '  "vout" : [ { "value" : n, "n" : n, "scriptPubKey" : { "asm" : "str", "desc" : "str", "hex" : "hex", "type" : "str", "address" : "str" } }, ... ]\n}',
    examples: [['hexstring']],
  },
  decodescript: {
    summary: 'Decode a hex-encoded script.',
    args: [req('hexstring', 'string', 'the hex-encoded script')],
    result: '{\n  "asm" : "str", "desc" : "str", "type" : "str", "address" : "str", "p2sh" : "str"\n}',
    examples: [['hexstring']],
  },
  createrawtransaction: {
    summary:
      "Create a transaction spending the given inputs and creating new outputs.\nOutputs can be addresses or data.\nReturns hex-encoded raw transaction.\nNote that the transaction's inputs are not signed, and\nit is not stored in the wallet or transmitted to the network.",
    args: [
      req('inputs', 'array', 'The inputs: [{"txid":"hex","vout":n,"sequence":n},...]'),
      req(
        'outputs',
        'array',
        'The outputs: [{"address":amount,...},{"data":"hex"},...] (an object is accepted too)',
      ),
      opt('locktime', 'numeric', '0', 'Raw locktime. Non-0 value also locktime-activates inputs'),
      opt('replaceable', 'boolean', 'true', 'Marks this transaction as BIP125-replaceable.'),
    ],
    result: '"hex"    (string) hex string of the transaction',
    examples: [[[{ txid: 'myid', vout: 0 }], [{ address: 0.01 }]]],
  },
  signrawtransactionwithwallet: {
    summary:
      'Sign inputs for raw transaction (serialized, hex-encoded).\nThe second optional argument (may be null) is an array of previous transaction outputs that\nthis transaction depends on but may not yet be in the block chain.',
    args: [
      req('hexstring', 'string', 'The transaction hex string'),
      opt(
        'prevtxs',
        'array',
        '',
        'The previous dependent transaction outputs: [{"txid":"hex","vout":n,"scriptPubKey":"hex","redeemScript":"hex","amount":amount},...]',
      ),
      opt(
        'sighashtype',
        'string',
        '"DEFAULT for Taproot, ALL otherwise"',
        'The signature hash type: "ALL", "NONE", "SINGLE", "ALL|ANYONECANPAY", "NONE|ANYONECANPAY", "SINGLE|ANYONECANPAY"',
      ),
    ],
    result:
      '{\n  "hex" : "hex", "complete" : true|false,\n  "errors" : [ { "txid" : "hex", "vout" : n, "scriptSig" : "hex", "sequence" : n, "error" : "str" }, ... ]\n}',
    examples: [['myhex']],
  },
  sendrawtransaction: {
    summary:
      "Submit a raw transaction (serialized, hex-encoded) to local node and network.\n\nThe transaction will be sent unconditionally to all peers, so using sendrawtransaction\nfor manual rebroadcast may degrade privacy by leaking the transaction's origin, as\nnodes will normally not rebroadcast non-wallet transactions already in their mempool.",
    args: [req('hexstring', 'string', 'The hex string of the raw transaction'), maxfeerate],
    result: '"hex"    (string) The transaction hash in hex',
    examples: [['signedhex']],
  },
  testmempoolaccept: {
    summary:
      'Returns result of mempool acceptance tests indicating if raw transaction(s) (serialized, hex-encoded) would be accepted by mempool.\n\nThis checks if transactions violate the consensus or policy rules.',
    args: [req('rawtxs', 'array', 'An array of hex strings of raw transactions.'), maxfeerate],
    result:
      '[\n  {\n    "txid" : "hex", "wtxid" : "hex", "package-error" : "str", "allowed" : true|false, "vsize" : n,\n' +
      '    "fees" : { "base" : n, "effective-feerate" : n, "effective-includes" : [ "hex", ... ] }, "reject-reason" : "str"\n  },\n  ...\n]',
    examples: [[['signedhex']]],
  },
};

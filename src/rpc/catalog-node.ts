// Method table (see catalog.ts): the node methods of node-methods.ts and getrpcinfo, worded after
// Bitcoin Core v29's help text, with Tally's differences said where there are some.
import type { MethodDoc } from './catalog-args.js';
import { opt, req } from './catalog-args.js';

const HASH = '00000000c937983704a73af28acdec37b049d214adbda81d7e2a3dd146f6ed09';
const tipResult =
  '{\n  "hash" : "hex",    (string) The blockhash\n  "height" : n       (numeric) Block height\n}';
const timeout = opt(
  'timeout',
  'numeric',
  '0',
  'Time in milliseconds to wait for a response. 0 indicates no timeout.',
);
const verbose = opt(
  'verbose',
  'boolean',
  'false',
  'True for a json object, false for array of transaction ids',
);
const txid = req('txid', 'string', 'The transaction id (must be in mempool)');

export const NODE_DOCS: Record<string, MethodDoc> = {
  getblockstats: {
    summary:
      "Compute per block statistics for a given window. All amounts are in satoshis.\nIt won't work for some heights with pruning.",
    args: [
      req('hash_or_height', 'json', 'The block hash or height of the target block'),
      opt('stats', 'array', 'all values', 'Values to plot (see result below)'),
    ],
    result:
      '{\n  "avgfee" : n, "avgfeerate" : n, "avgtxsize" : n, "blockhash" : "hex", "feerate_percentiles" : [ n, n, n, n, n ],\n' +
      '  "height" : n, "ins" : n, "maxfee" : n, "maxfeerate" : n, "maxtxsize" : n, "medianfee" : n, "mediantime" : n,\n' +
      '  "mediantxsize" : n, "minfee" : n, "minfeerate" : n, "mintxsize" : n, "outs" : n, "subsidy" : n,\n' +
      '  "swtotal_size" : n, "swtotal_weight" : n, "swtxs" : n, "time" : n, "total_out" : n, "total_size" : n,\n' +
      '  "total_weight" : n, "totalfee" : n, "txs" : n, "utxo_increase" : n, "utxo_size_inc" : n,\n' +
      '  "utxo_increase_actual" : n, "utxo_size_inc_actual" : n\n}',
    examples: [
      [HASH, ['minfeerate', 'avgfeerate']],
      [1000, ['minfeerate', 'avgfeerate']],
    ],
  },
  getchaintxstats: {
    summary: 'Compute statistics about the total number and rate of transactions in the chain.',
    args: [
      opt('nblocks', 'numeric', 'one month', 'Size of the window in number of blocks'),
      opt('blockhash', 'string', 'chain tip', 'The hash of the block that ends the window.'),
    ],
    result:
      '{\n  "time" : xxx, "txcount" : n, "window_final_block_hash" : "hex", "window_final_block_height" : n,\n' +
      '  "window_block_count" : n, "window_interval" : n, "window_tx_count" : n, "txrate" : n\n}',
    examples: [[], [2016]],
  },
  getchainstates: {
    summary: 'Return information about chainstates.',
    args: [],
    result:
      '{\n  "headers" : n,\n  "chainstates" : [ { "blocks" : n, "bestblockhash" : "hex", "bits" : "hex", "target" : "hex",\n' +
      '    "difficulty" : n, "verificationprogress" : n, "snapshot_blockhash" : "hex", "coins_db_cache_bytes" : n,\n' +
      '    "coins_tip_cache_bytes" : n, "validated" : true|false }, ... ]\n}',
    examples: [[]],
  },
  getdeploymentinfo: {
    summary: 'Returns an object containing various state info regarding deployments of consensus changes.',
    args: [
      opt(
        'blockhash',
        'string',
        'hash of current chain tip',
        'The block hash at which to query deployment state',
      ),
    ],
    result:
      '{\n  "hash" : "str", "height" : n,\n  "deployments" : { "xxxx" : { "type" : "str", "height" : n, "active" : true|false }, ... }\n}\n' +
      '(Tally lists the buried bip34, bip66, bip65 and csv; there is no SegWit or Taproot.)',
    examples: [[]],
  },
  getmempoolancestors: {
    summary: 'If txid is in the mempool, returns all in-mempool ancestors.',
    args: [txid, verbose],
    result:
      'Result (for verbose = false):\n[ "hex", ... ]\n\nResult (for verbose = true):\n{ "transactionid" : { …getmempoolentry… }, ... }',
    examples: [['mytxid']],
  },
  getmempooldescendants: {
    summary: 'If txid is in the mempool, returns all in-mempool descendants.',
    args: [txid, verbose],
    result:
      'Result (for verbose = false):\n[ "hex", ... ]\n\nResult (for verbose = true):\n{ "transactionid" : { …getmempoolentry… }, ... }',
    examples: [['mytxid']],
  },
  gettxspendingprevout: {
    summary: 'Scans the mempool to find transactions spending any of the given outputs',
    args: [
      req(
        'outputs',
        'array',
        'The transaction outputs that we want to check, and within each, the txid (string) vout (numeric).',
      ),
    ],
    result: '[\n  {\n    "txid" : "hex", "vout" : n, "spendingtxid" : "hex"\n  },\n  ...\n]',
    examples: [[[{ txid: 'a08e6907dbbd3d809776dbfc5d82e371b764ed838b5655e72f463568df1aadf0', vout: 3 }]]],
  },
  savemempool: {
    summary: 'Dumps the mempool to disk. It will fail until the previous dump is fully loaded.',
    args: [],
    result: '{\n  "filename" : "str"    (string) the directory and file where the mempool was saved\n}',
    examples: [[]],
  },
  importmempool: {
    summary:
      'Import a mempool.dat file and attempt to add its contents to the mempool.\nWarning: Importing untrusted files is dangerous, especially if metadata from the file is taken over.',
    args: [
      req('filepath', 'string', 'The mempool file'),
      opt(
        'options',
        'object',
        '',
        '{"use_current_time": bool (default true: every entry enters now), "apply_fee_delta_priority": bool (default false: take over the file\'s prioritisetransaction deltas), "apply_unbroadcast_set": bool (default false; Tally keeps no unbroadcast set, so it changes nothing)}',
      ),
    ],
    result: '{}    (json object)',
    examples: [['/path/to/mempool.dat']],
  },
  pruneblockchain: {
    summary:
      'Attempts to delete block and undo data up to a specified height or timestamp, if eligible for pruning.',
    args: [req('height', 'numeric', 'The block height to prune up to.')],
    result: 'n    (numeric) Height of the last block pruned',
    examples: [[1000]],
  },
  verifychain: {
    summary: 'Verifies blockchain database.',
    args: [
      opt(
        'checklevel',
        'numeric',
        '3, range=0-4',
        'How thorough the block verification is: 0 reads the blocks, 1 checks them, 2 checks the undo data (3 and 4 are checked as 2)',
      ),
      opt('nblocks', 'numeric', '6, 0=all', 'The number of blocks to check.'),
    ],
    result:
      'true|false    (boolean) Verification finished successfully. If false, check debug.log for reason.',
    examples: [[]],
  },
  submitheader: {
    summary:
      'Decode the given hexdata as a header and submit it as a candidate chain tip if valid.\nThrows when the header is invalid.',
    args: [req('hexdata', 'string', 'the hex-encoded block header data')],
    result: 'null    (json null) None',
    examples: [['aabbcc']],
  },
  getmemoryinfo: {
    summary: 'Returns an object containing information about memory usage.',
    args: [
      opt(
        'mode',
        'string',
        '"stats"',
        'determines what kind of information is returned ("stats" only: "mallocinfo" needs glibc\'s malloc_info)',
      ),
    ],
    result:
      '{\n  "locked" : {    (json object) Information about locked memory manager (empty in Tally: keys live on the JS heap)\n' +
      '    "used" : n, "free" : n, "total" : n, "locked" : n, "chunks_used" : n, "chunks_free" : n\n  }\n}',
    examples: [[]],
  },
  getrpcinfo: {
    summary: 'Returns details of the RPC server.',
    args: [],
    result:
      '{\n  "active_commands" : [ { "method" : "str", "duration" : n }, ... ],  (duration in microseconds)\n' +
      '  "logpath" : "str"    (string) The complete file path to the debug log\n}',
    examples: [[]],
  },
  waitfornewblock: {
    summary:
      'Waits for any new block and returns useful info about it.\n\nReturns the current block on timeout or exit.',
    args: [timeout, opt('current_tip', 'string', '', 'Method waits for the chain tip to differ from this.')],
    result: tipResult,
    examples: [[1000]],
  },
  waitforblock: {
    summary:
      'Waits for a specific new block and returns useful info about it.\n\nReturns the current block on timeout or exit.',
    args: [req('blockhash', 'string', 'Block hash to wait for.'), timeout],
    result: tipResult,
    examples: [[HASH, 1000]],
  },
  waitforblockheight: {
    summary:
      'Waits for (at least) block height and returns the height and hash\nof the current tip.\n\nReturns the current block on timeout or exit.',
    args: [req('height', 'numeric', 'Block height to wait for.'), timeout],
    result: tipResult,
    examples: [[100, 1000]],
  },
};

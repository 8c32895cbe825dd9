// Method table (see catalog.ts): the raw-transaction methods of issue 14 (signing with given keys,
// combining partial signatures, packages), worded after Bitcoin Core v29's help text, with
// Tally's differences said where there are some.
import type { MethodDoc } from './catalog-args.js';
import { opt, req } from './catalog-args.js';

const signResult =
  '{\n  "hex" : "hex",              (string) The hex-encoded raw transaction with signature(s)\n' +
  '  "complete" : true|false,    (boolean) If the transaction has a complete set of signatures\n' +
  '  "errors" : [                (json array, optional) Script verification errors (if there are any)\n' +
  '    {\n      "txid" : "hex",          (string) The hash of the referenced, previous transaction\n' +
  '      "vout" : n,              (numeric) The index of the output to spent and used as input\n' +
  '      "witness" : [ "hex" ],   (json array) Always empty: no SegWit\n' +
  '      "scriptSig" : "hex",     (string) The hex-encoded signature script\n' +
  '      "sequence" : n,          (numeric) Script sequence number\n' +
  '      "error" : "str"          (string) Verification or signing error related to the input\n    },\n    ...\n  ]\n}';

export const RAWTX_DOCS: Record<string, MethodDoc> = {
  signrawtransactionwithkey: {
    summary:
      'Sign inputs for raw transaction (serialized, hex-encoded).\nThe second argument is an array of base58-encoded private\n' +
      'keys that will be the only keys used to sign the transaction.\nThe third optional argument (may be null) is an array of previous transaction outputs that\n' +
      'this transaction depends on but may not yet be in the block chain.\nSignatures already in an input are kept (a multisig is completed by the next signer).',
    args: [
      req('hexstring', 'string', 'The transaction hex string'),
      req('privkeys', 'array', 'The base58-encoded private keys for signing: ["privatekey",...]'),
      opt(
        'prevtxs',
        'array',
        '',
        'The previous dependent transaction outputs: [{"txid":"hex","vout":n,"scriptPubKey":"hex","redeemScript":"hex","amount":amount},...] ' +
          '(redeemScript required for P2SH)',
      ),
      opt(
        'sighashtype',
        'string',
        '"DEFAULT for Taproot, ALL otherwise"',
        'The signature hash type: "DEFAULT" (ALL), "ALL", "NONE", "SINGLE", "ALL|ANYONECANPAY", "NONE|ANYONECANPAY", "SINGLE|ANYONECANPAY"',
      ),
    ],
    result: signResult,
    examples: [['myhex', ['key1', 'key2']]],
  },
  combinerawtransaction: {
    summary:
      'Combine multiple partially signed transactions into one transaction.\nThe combined transaction may be another partially signed transaction or a \nfully signed transaction.',
    args: [req('txs', 'array', 'The hex strings of partially signed transactions: ["hexstring",...]')],
    result: '"hex"    (string) The hex-encoded raw transaction with signature(s)',
    examples: [[['myhex1', 'myhex2', 'myhex3']]],
  },
  submitpackage: {
    summary:
      'Submit a package of raw transactions (serialized, hex-encoded) to local node.\nThe package will be validated according to consensus and mempool policy rules. If any transaction passes, it will be accepted to mempool.\n' +
      'This RPC is experimental and the interface may be unstable. Refer to doc/policy/packages.md for documentation on package policies.\n' +
      "Warning: successful submission does not mean the transactions will propagate throughout the network.\nTally: a parent below the min relay fee may enter with its child at the package's fee rate (Core v29 keeps that for TRUC transactions).",
    args: [
      req(
        'package',
        'array',
        'An array of raw transactions. The package must consist of a child with its parents, and none of the parents may depend on each other. The package must be topologically sorted, with the child being the last element in the array.',
      ),
      opt(
        'maxfeerate',
        'amount',
        '"0.10"',
        'Reject transactions whose fee rate is higher than the specified value, expressed in TLY/kvB.. Set to 0 to accept any fee rate.',
      ),
      opt(
        'maxburnamount',
        'amount',
        '"0.00"',
        "Reject transactions with provably unspendable outputs (e.g. 'datacarrier' outputs that use the OP_RETURN opcode) greater than the specified value, expressed in TLY.",
      ),
    ],
    result:
      '{\n  "package_msg" : "str",             (string) The transaction package result message. "success" indicates all transactions were accepted into or are already in the mempool.\n' +
      '  "tx-results" : {                    (json object) transaction results keyed by wtxid (= txid: no SegWit)\n' +
      '    "wtxid" : {\n      "txid" : "hex",\n      "other-wtxid" : "hex",          (string, optional) never: no witnesses\n' +
      '      "vsize" : n,                    (numeric, optional) Sigops-adjusted virtual transaction size.\n' +
      '      "fees" : {                      (json object, optional) Transaction fees\n        "base" : n,                   (numeric) transaction fee in TLY\n' +
      '        "effective-feerate" : n,      (numeric, optional) if the transaction was not already in the mempool, the effective feerate in TLY per KvB.\n' +
      '        "effective-includes" : [ "hex", ... ]  (json array, optional) the wtxids of the transactions whose fees and vsizes are included in effective-feerate.\n      },\n' +
      '      "error" : "str"                 (string, optional) The transaction error string, if it was rejected by the mempool\n    },\n    ...\n  },\n' +
      '  "replaced-transactions" : [ "hex", ... ]  (json array) List of txids of replaced transactions\n}',
    examples: [[['rawtx1', 'rawtx2']], [['rawtx1', 'rawtx2'], 0.1, 0]],
  },
};

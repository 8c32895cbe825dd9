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
};

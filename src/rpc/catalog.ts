// The RPC method table: for each method, Bitcoin Core's category, its arguments (name, type,
// required or default, meaning), its result and an example. One table serves three readers:
// `help` (Core's grouped list and the full text of `help METHOD`), the argument-count check
// (too few or too many positional arguments is -1 with the method's help, as Core's
// RPCHelpMan::HandleRequest), and the test that keeps docs/rpc.md listing every method.
// Owns only data and its rendering; the methods themselves live in the *-methods.ts files.
import { RpcCode, RpcError } from './errors.js';
import { CHAIN_DOCS } from './catalog-chain.js';
import { OTHER_DOCS } from './catalog-other.js';
import { NODE_DOCS } from './catalog-node.js';
import { CONTROL_DOCS } from './catalog-control.js';
import { RAWTX_DOCS } from './catalog-rawtx.js';
import type { ArgDoc, ArgType, MethodDoc } from './catalog-args.js';

export type { ArgDoc, ArgType, MethodDoc } from './catalog-args.js';

/**
 * Every method of Bitcoin Core v29 by the category its `help` prints it under (hidden and
 * generating ones included), plus Tally's own. A method absent here is listed under "Tally".
 */
const CATEGORY_NAMES: Record<string, string> = {
  Blockchain:
    'dumptxoutset getbestblockhash getblock getblockchaininfo getblockcount getblockfilter ' +
    'getblockfrompeer getblockhash getblockheader getblockstats getchainstates getchaintips ' +
    'getchaintxstats getdeploymentinfo getdescriptoractivity getdifficulty getmempoolancestors ' +
    'getmempooldescendants getmempoolentry getmempoolinfo getrawmempool gettxout gettxoutproof ' +
    'gettxoutsetinfo gettxspendingprevout importmempool loadtxoutset preciousblock pruneblockchain ' +
    'savemempool scanblocks scantxoutset verifychain verifytxoutproof',
  Control: 'getmemoryinfo getrpcinfo help logging stop uptime',
  Mining:
    'getblocktemplate getmininginfo getnetworkhashps getprioritisedtransactions prioritisetransaction ' +
    'submitblock submitheader getstratuminfo',
  Network:
    'addnode clearbanned disconnectnode getaddednodeinfo getaddrmaninfo getconnectioncount getnettotals ' +
    'getnetworkinfo getnodeaddresses getpeerinfo listbanned ping setban setnetworkactive',
  Rawtransactions:
    'analyzepsbt combinepsbt combinerawtransaction converttopsbt createpsbt createrawtransaction ' +
    'decodepsbt decoderawtransaction decodescript descriptorprocesspsbt finalizepsbt fundrawtransaction ' +
    'getrawtransaction joinpsbts sendrawtransaction signrawtransactionwithkey submitpackage ' +
    'testmempoolaccept utxoupdatepsbt',
  Signer: 'enumeratesigners',
  Util:
    'createmultisig deriveaddresses estimatesmartfee getdescriptorinfo getindexinfo ' +
    'signmessagewithprivkey validateaddress verifymessage',
  Wallet:
    'abandontransaction abortrescan addmultisigaddress backupwallet bumpfee createwallet ' +
    'createwalletdescriptor dumpprivkey dumpwallet encryptwallet getaddressesbylabel getaddressinfo ' +
    'getbalance getbalances gethdkeys getnewaddress getrawchangeaddress getreceivedbyaddress ' +
    'getreceivedbylabel gettransaction getwalletinfo importaddress importdescriptors importmulti ' +
    'importprivkey importprunedfunds importpubkey importwallet keypoolrefill listaddressgroupings ' +
    'listdescriptors listlabels listlockunspent listreceivedbyaddress listreceivedbylabel ' +
    'listsinceblock listtransactions listunspent listwalletdir listwallets loadwallet lockunspent ' +
    'migratewallet newkeypool psbtbumpfee removeprunedfunds rescanblockchain restorewallet send ' +
    'sendall sendmany sendtoaddress sethdseed setlabel settxfee setwalletflag signmessage ' +
    'signrawtransactionwithwallet simulaterawtransaction unloadwallet upgradewallet ' +
    'walletcreatefundedpsbt walletdisplayaddress walletlock walletpassphrase walletpassphrasechange ' +
    'walletprocesspsbt',
  Zmq: 'getzmqnotifications',
  Generating: 'generate generateblock generatetoaddress generatetodescriptor',
  Hidden:
    'addconnection addpeeraddress echo echoipc echojson estimaterawfee getorphantxs getrawaddrman ' +
    'invalidateblock mockscheduler reconsiderblock sendmsgtopeer setmocktime ' +
    'syncwithvalidationinterfacequeue waitforblock waitforblockheight waitfornewblock',
};

/** Tally's own methods: not in Core's list. */
export const TALLY_ONLY = new Set(['getstratuminfo']);

export const CATEGORY = new Map<string, string>(
  Object.entries(CATEGORY_NAMES).flatMap(([cat, names]) => names.split(' ').map((n) => [n, cat] as const)),
);

/** Categories in the order Core's `help` prints them; hidden ones are not printed. */
export const CATEGORY_ORDER = [
  'Blockchain',
  'Control',
  'Generating',
  'Mining',
  'Network',
  'Rawtransactions',
  'Signer',
  'Util',
  'Wallet',
  'Zmq',
  'Tally',
];

export const METHOD_DOCS: ReadonlyMap<string, MethodDoc> = new Map(
  Object.entries({ ...CHAIN_DOCS, ...OTHER_DOCS, ...NODE_DOCS, ...CONTROL_DOCS, ...RAWTX_DOCS }),
);

export function categoryOf(name: string): string {
  return CATEGORY.get(name) ?? 'Tally';
}

const quoted = (t: ArgType) => t === 'string';

/** Core's one-line synopsis: `getblock "blockhash" ( verbosity )`. */
export function synopsis(name: string, args: readonly ArgDoc[]): string {
  const word = (a: ArgDoc) => (quoted(a.type) ? `"${a.name}"` : a.name);
  // In order, each run of optional arguments in parentheses: `prioritisetransaction "txid" ( dummy ) fee_delta`.
  const out = [name];
  let open = false;
  for (const a of args) {
    const optional = a.default !== undefined;
    if (optional !== open) out.push(optional ? '(' : ')');
    open = optional;
    out.push(word(a));
  }
  if (open) out.push(')');
  return out.join(' ');
}

function cliValue(v: unknown): string {
  if (typeof v === 'string') return `"${v}"`;
  if (v !== null && typeof v === 'object') return `'${JSON.stringify(v)}'`;
  return JSON.stringify(v);
}

/** The full text of `help METHOD`, laid out as Core's RPCHelpMan::ToString. */
export function helpText(name: string, doc: MethodDoc, port: number): string {
  const out = [synopsis(name, doc.args), '', doc.summary];
  if (doc.args.length > 0) {
    out.push('', 'Arguments:');
    const width = Math.max(...doc.args.map((a) => a.name.length)) + 4;
    doc.args.forEach((a, i) => {
      const need =
        a.default === undefined
          ? 'required'
          : a.default === ''
            ? 'optional'
            : `optional, default=${a.default}`;
      out.push(`${i + 1}. ${a.name.padEnd(width)}(${a.type}, ${need}) ${a.text}`);
    });
  }
  out.push('', 'Result:', doc.result, '', 'Examples:');
  for (const ex of doc.examples) {
    out.push(`> tally rpc ${[name, ...ex.map(cliValue)].join(' ')}`);
    const body = JSON.stringify({ jsonrpc: '2.0', id: 'curltest', method: name, params: ex });
    out.push(
      `> curl --user myusername --data-binary '${body}' -H 'content-type: application/json' http://127.0.0.1:${port}/`,
    );
  }
  return out.join('\n');
}

/** Core's `help` without a command: one line per method, grouped by category, hidden ones left out. */
export function helpOverview(methods: readonly [string, readonly string[]][]): string {
  const groups = new Map<string, string[]>();
  for (const [n, params] of [...methods].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const doc = METHOD_DOCS.get(n);
    const line = doc ? synopsis(n, doc.args) : plainHelp(n, params, undefined);
    const cat = categoryOf(n);
    groups.set(cat, [...(groups.get(cat) ?? []), line]);
  }
  return CATEGORY_ORDER.filter((c) => groups.has(c))
    .map((c) => `== ${c} ==\n${groups.get(c)!.join('\n')}`)
    .join('\n\n');
}

/** help for a method without a table entry: its registered names and one-line help. */
export function plainHelp(name: string, params: readonly string[], help: string | undefined): string {
  const args = params.map((p) => `"${p}"`).join(' ');
  return `${name}${args ? ' ' + args : ''}${help ? '\n\n' + help : ''}`;
}

const JSON_TYPE: Record<ArgType, string | null> = {
  string: 'string',
  numeric: 'number',
  boolean: 'bool',
  object: 'object',
  array: 'array',
  amount: null,
  json: null,
};

/**
 * Core's argument check before a method runs: fewer than the required or more than all
 * arguments is -1 with the help text; null in a required position is -3 ("Wrong type passed").
 */
export function checkArgs(doc: MethodDoc, params: readonly unknown[], help: () => string): void {
  const required = doc.args.filter((a) => a.default === undefined).length;
  if (params.length < required || params.length > doc.args.length)
    throw new RpcError(RpcCode.MISC_ERROR, help());
  const wrong: string[] = [];
  doc.args.forEach((a, i) => {
    const v = params[i];
    if (a.default === undefined && (v === null || v === undefined))
      wrong.push(
        `    "Position ${i + 1} (${a.name})": "JSON value of type null is not of expected type ${JSON_TYPE[a.type] ?? a.type}"`,
      );
  });
  if (wrong.length > 0)
    throw new RpcError(RpcCode.TYPE_ERROR, `Wrong type passed:\n{\n${wrong.join(',\n')}\n}`);
}

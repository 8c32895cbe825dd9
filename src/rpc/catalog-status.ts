// Tally's standing against Bitcoin Core v29's method list (catalog.ts's CATEGORY): every Core
// method is `same`, `differs` (how) or `absent` (why). Only the exceptions are written here; a
// method not named is `same`. docs/rpc.md's method table is generated from this (statusTable,
// `node dist/scripts/rpc-doc.js` rewrites it) and a test compares the two, so the document cannot
// drift from the catalog; the real-node test checks that an absent method is not served and a
// present one is. Owns data and its rendering only.
import { CATEGORY, TALLY_ONLY } from './catalog.js';

export type Status = 'same' | 'differs' | 'absent' | 'not yet';

export interface MethodStatus {
  status: Status;
  /** How it differs, or why it is absent. */
  note: string;
}

const PSBT = 'PSBT (BIP174) is not built: Tally signs whole transactions (raw or wallet)';
const DESCRIPTORS =
  'descriptor wallets are not built: the wallet is one BIP32 chain of P2PKH keys (descriptors are read by getdescriptorinfo, deriveaddresses, scantxoutset and generatetodescriptor)';
const DESCRIPTOR_KEYS =
  "pre-SegWit descriptors (sh, pk, pkh, combo, multi, sortedmulti, addr, raw; wpkh/wsh/tr refused in one line); extended keys in Bitcoin's xpub/xprv or tpub/tprv versions on every network, printed as given; no multipath (BIP389) keys";
const SIGNER = 'external signers (HWI) are not supported';
const HOOK = "Core's hidden test hook (regtest harness), not part of a node's interface";

/** Absent for good: features Tally does not have. */
const ABSENT: Record<string, string> = {
  ...Object.fromEntries(
    'analyzepsbt combinepsbt converttopsbt createpsbt decodepsbt descriptorprocesspsbt finalizepsbt joinpsbts utxoupdatepsbt walletcreatefundedpsbt walletprocesspsbt psbtbumpfee'
      .split(' ')
      .map((m) => [m, PSBT]),
  ),
  ...Object.fromEntries(
    'getdescriptoractivity scanblocks createwalletdescriptor importdescriptors listdescriptors gethdkeys'
      .split(' ')
      .map((m) => [m, DESCRIPTORS]),
  ),
  migratewallet: 'there is no legacy/descriptor wallet split to migrate between',
  enumeratesigners: SIGNER,
  walletdisplayaddress: SIGNER,
  generate: "Core's own stub only says it was replaced by generatetoaddress",
  echoipc: 'multiprocess IPC is not built',
  ...Object.fromEntries(
    'addconnection addpeeraddress echo echojson mockscheduler sendmsgtopeer setmocktime syncwithvalidationinterfacequeue getrawaddrman'
      .split(' ')
      .map((m) => [m, HOOK]),
  ),
  estimaterawfee: 'the fee estimator keeps one horizon, not three (estimatesmartfee answers)',
};

/** Planned (other work of issues 14 and 15): listed, not yet checked as served. */
const NOT_YET: Record<string, string> = {};

/** Served, with a difference worth knowing. */
const DIFFERS: Record<string, string> = {
  getblockchaininfo: 'no SegWit/Taproot softfork fields',
  getblocktemplate: "no SegWit rules or witness commitment; test chains skip the sync check as Core's",
  getdeploymentinfo: 'lists the buried bip34, bip66, bip65 and csv only',
  dumptxoutset:
    'rollback is computed from the undo data without moving the chain (Core invalidates, dumps and reconsiders with the network off); at most 2,000,000 coin changes; type "rollback" needs the rollback option (no assumeutxo heights)',
  loadtxoutset:
    "reads and checks a snapshot's metadata, then refuses it as Core refuses an unknown base block: Tally's assumeutxo table has no entries yet",
  scantxoutset: `${DESCRIPTOR_KEYS}; combo() is P2PK and P2PKH only`,
  getdescriptorinfo: DESCRIPTOR_KEYS,
  deriveaddresses: `${DESCRIPTOR_KEYS}; combo() gives the P2PKH address only`,
  generatetodescriptor: `${DESCRIPTOR_KEYS}; combo() pays its P2PKH output (Core: P2WPKH for a compressed key)`,
  getmemoryinfo: 'mode "stats" only; locked memory is empty (keys live on the JS heap)',
  verifychain: 'levels 3 and 4 are checked as level 2',
  verifytxoutproof:
    'bytes that are not a merkle block (trailing bytes included) are -1 "Invalid proof: …" (Core: -1 with its stream error)',
  importmempool: 'apply_unbroadcast_set changes nothing: Tally keeps no unbroadcast set',
  submitpackage:
    "a parent below the min relay fee may enter with its child (Core v29: TRUC only); no package RBF; tx-results lists unevaluated transactions (Core's loop skips them)",
  signrawtransactionwithkey:
    'legacy inputs only (P2PKH, P2PK, bare and P2SH multisig); witness is always empty; DEFAULT means ALL',
  getrawtransaction: 'without txindex only the pool or a named block is searched, as Core',
  decoderawtransaction: 'no witness fields (pre-SegWit)',
  getpeerinfo:
    "addr is the peer's WebSocket URL when dialled; adds banscore and wsurl; bip152_hb_* false (no compact blocks), transport_protocol_type v1, no mapped_as",
  getnetworkinfo: 'onion, i2p and cjdns are never reachable',
  addnode: 'takes a WebSocket URL or host:port; an unknown command is -8 (Core: -1 with help)',
  getnodeaddresses: 'ws:// IP entries only; onion, i2p and cjdns always empty',
  getmininginfo: 'adds the hashing kernel in use',
  createwallet: 'takes a BIP39 mnemonic and returns it once; descriptors and blank are ignored',
  getnewaddress: 'legacy (P2PKH) addresses only',
  sethdseed:
    "the new chain is m/44'/coin'/0' of the seed (newkeypool=false first hands out the old chain's pre-derived keys, as Core's keypool); the old chain's keys are kept as imported keys with their HD paths; the mnemonic then restores only the old keys",
  setwalletflag:
    "avoid_reuse only, as Core; no rescan warning: used addresses are read from the wallet's transactions",
  upgradewallet: "versions are Tally's wallet file versions (1 to 3), not Core's feature numbers",
  getrawchangeaddress: 'legacy (P2PKH) addresses only',
  fundrawtransaction:
    'change_type legacy only (the wallet makes P2PKH keys); estimate_mode: one estimate horizon',
  send: 'no PSBT: psbt true is -8 and a transaction the wallet cannot sign whole is -4 (Core: an incomplete PSBT)',
  simulaterawtransaction:
    "an input is looked for in the wallet's coins and the UTXO set, not among other pool transactions' outputs (-8 missing)",
  importmulti: 'no descriptors or witness scripts (-8); at most 10,000 requests a call (Core has no bound)',
  dumpwallet: 'adds Tally\'s own "watchonly=1" and "pubkey=1" lines for watched scripts and keys',
  restorewallet: 'restores a backupwallet file (a Tally wallet file), not a Core database',
  signmessage: 'signs with "Tally Signed Message:\\n", so signatures do not replay across chains',
  signmessagewithprivkey: 'signs with "Tally Signed Message:\\n"',
  verifymessage: 'checks against "Tally Signed Message:\\n"',
  validateaddress: 'iswitness is always false',
  estimatesmartfee: 'one horizon: economical and conservative give the same estimate',
  help: 'examples name `tally rpc`, not bitcoin-cli',
  stop: 'answers "Tally server stopping"',
};

/** A Core method's status in Tally. */
export function methodStatus(name: string): MethodStatus {
  if (name in ABSENT) return { status: 'absent', note: ABSENT[name] };
  if (name in NOT_YET) return { status: 'not yet', note: NOT_YET[name] };
  if (name in DIFFERS) return { status: 'differs', note: DIFFERS[name] };
  return { status: 'same', note: '' };
}

/** Core's methods (every one the catalog knows, Tally's own left out), sorted by category then name. */
export function coreMethods(): [name: string, category: string][] {
  return [...CATEGORY]
    .filter(([n]) => !TALLY_ONLY.has(n))
    .sort(([a, ca], [b, cb]) => (ca === cb ? (a < b ? -1 : 1) : ca < cb ? -1 : 1));
}

/** Names in the exception lists that the catalog does not know (a typo or a removed method). */
export function unknownStatusNames(): string[] {
  return [...Object.keys(ABSENT), ...Object.keys(NOT_YET), ...Object.keys(DIFFERS)].filter(
    (n) => !CATEGORY.has(n),
  );
}

export const TABLE_START = '<!-- method-status:start (generated by `node dist/scripts/rpc-doc.js`) -->';
export const TABLE_END = '<!-- method-status:end -->';

/** The table's rows: category, method, status, note. */
export function statusRows(): string[][] {
  return coreMethods().map(([n, cat]) => {
    const s = methodStatus(n);
    return [cat, `\`${n}\``, s.status, s.note];
  });
}

/** The counts line above the table. */
export function statusSummary(): string {
  const rows = statusRows();
  const count = (st: Status) => rows.filter((r) => r[2] === st).length;
  return (
    `Of Bitcoin Core v29's ${rows.length} methods (hidden ones included): ${count('same')} same, ` +
    `${count('differs')} differ, ${count('not yet')} not yet, ${count('absent')} absent.`
  );
}

/** The Markdown docs/rpc.md carries between TABLE_START and TABLE_END (prettier aligns it). */
export function statusTable(): string {
  const rows = statusRows();
  const summary = statusSummary();
  const line = (cells: string[]) => `| ${cells.map((c) => c.replace(/\|/g, '\\|')).join(' | ')} |`;
  return [
    summary,
    '',
    line(['category', 'method', 'status', 'how it differs / why absent']),
    '| --- | --- | --- | --- |',
    ...rows.map(line),
  ].join('\n');
}

/** The rows of a Markdown table as cells (pipes escaped with a backslash stay in their cell). */
export function parseTableRows(markdown: string): string[][] {
  return markdown
    .split('\n')
    .filter((l) => l.startsWith('|') && !/^\|[\s:-]+\|/.test(l))
    .slice(1)
    .map((l) =>
      l
        .slice(1, -1)
        .split(/(?<!\\)\|/)
        .map((c) => c.trim().replace(/\\\|/g, '|')),
    );
}

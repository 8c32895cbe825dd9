// Options, defaults and the public shapes of the P2P node (its events, peer info and sync
// progress), shared by the facade (node.ts) and its parts (connman, relay, addrgossip, sync).
// Owns no state.
import type { Logger, P2PChain, P2PMempool, P2PNetworkParams } from './ports.js';
import { bytesToHex } from '../primitives/bytes.js';
import type { Tx } from '../primitives/tx.js';

export interface P2PTimeouts {
  /** A connection must complete version/verack within this. Core: 60 s. */
  handshakeMs: number;
  pingIntervalMs: number;
  /** Nothing received (not even a pong) for this long: disconnect. Core: 20 min. */
  idleMs: number;
  /** A peer with blocks in flight that delivers none for this long is replaced. */
  blockStallMs: number;
  /** The headers-sync peer must answer getheaders within this. */
  headersMs: number;
  /** A transaction asked for and not delivered is forgotten (asked elsewhere on the next inv). */
  txRequestMs: number;
  /** Base back-off before redialling an address (doubles per failed attempt). */
  retryMs: number;
  /** Period of the maintenance timer (timeouts, pings, dialling). */
  tickMs: number;
  /** Unsent bytes that do not go down for this long: disconnect. Core: TIMEOUT_INTERVAL, 20 min
   * ("socket sending timeout"). */
  sendStallMs: number;
}

export const DEFAULT_TIMEOUTS: P2PTimeouts = {
  handshakeMs: 60_000,
  pingIntervalMs: 120_000,
  idleMs: 20 * 60_000,
  blockStallMs: 30_000,
  headersMs: 120_000,
  txRequestMs: 60_000,
  retryMs: 5_000,
  tickMs: 1_000,
  sendStallMs: 20 * 60_000,
};

/** BIP14 user agent sent in `version` unless the node is given another. */
export const DEFAULT_USER_AGENT = '/Tally:0.1.0/';

export interface P2PNodeOptions {
  params: P2PNetworkParams;
  chain: P2PChain;
  mempool?: P2PMempool;
  /** Accept inbound connections (default true). */
  listen?: boolean;
  /** Listen port; 0 picks a free one (default params.defaultPort). */
  port?: number;
  /** Listen address (default 127.0.0.1; '0.0.0.0' or '::' for all interfaces). */
  bind?: string;
  /** The URL announced to peers (version.wsurl); default ws://<bind>:<port> unless bound to all. */
  externalUrl?: string;
  /** Dial only these peers (no address book, no seeds). */
  connect?: string[];
  /** Keep connections to these peers in addition to the automatic ones. */
  addnode?: string[];
  /** Add the network's seeds to the address book (default: true unless `connect` is given). */
  useSeeds?: boolean;
  /** JSON file of the address book (persisted across restarts). */
  peersFile?: string;
  /**
   * The address book's secret bucketing key instead of a random one (or the file's): tests only, for
   * a fixed table layout, as Core's deterministic address manager in its unit tests.
   */
  addrBookKey?: Uint8Array;
  /** JSON file of the ban list. */
  banlistFile?: string;
  /** Outbound connections kept open (default 8). */
  targetOutbound?: number;
  /** All connections (default 125); inbound get what outbound do not reserve. */
  maxConnections?: number;
  userAgent?: string;
  /** Service bits sent in `version` (default NODE_NETWORK; a pruned node's NODE_NETWORK_LIMITED). */
  services?: bigint;
  /**
   * Core's -whitelist with the noban permission: inbound peers from these addresses or subnets
   * (`1.2.3.4`, `10.0.0.0/8`, `::1`) are never discouraged or disconnected for misbehaviour,
   * never evicted, and served blocks deeper than 288 by a pruned node.
   */
  noban?: string[];
  /** Misbehaviour score that discourages a peer (default 100, as Core's DISCOURAGEMENT_THRESHOLD). */
  banThreshold?: number;
  /**
   * Discourage misbehaving loopback peers too. Default false, as Core: a local peer is only
   * disconnected (it may be our own wallet or miner). Tests of discouragement on one machine set it.
   */
  discourageLocal?: boolean;
  /**
   * Store and dial addresses learned from gossip or announced by inbound peers even when they are
   * not publicly routable (loopback, private, link-local). Default false, as Core; `connect` and
   * `addnode` may always name local peers.
   */
  allowLocalAddrs?: boolean;
  /** Received bytes queued per peer before its socket is paused (default 5 MB, Core's
   * -maxreceivebuffer). */
  maxReceiveBuffer?: number;
  /** Blocks ahead of the tip that may be requested or held at once (default 1024). */
  downloadWindow?: number;
  /** Blocks in flight per peer (default 16, as Core). */
  maxBlocksInFlightPerPeer?: number;
  /** Messages queued per peer before its socket is paused (default 64). */
  maxQueue?: number;
  timeouts?: Partial<P2PTimeouts>;
  logger?: Logger;
}

export interface PeerInfo {
  id: number;
  url: string;
  host: string;
  /** The socket's remote IP and port ('' and 0 until the socket is open). */
  remoteAddress: string;
  remotePort: number;
  /** Our end of the socket ('' and 0 until the socket is open). */
  localAddress: string;
  localPort: number;
  inbound: boolean;
  /** Core's noban permission (getpeerinfo's permissions). */
  noban: boolean;
  /** Dialled because the operator named it (connect/addnode), not from the address book. */
  manual: boolean;
  ready: boolean;
  version: number;
  subver: string;
  services: string;
  /** The peer asked for transaction relay (version.relay). */
  relayTxs: boolean;
  /** Seconds the peer's clock is ahead of ours, from its version timestamp. */
  timeOffset: number;
  startingHeight: number;
  bestHeight: number;
  /** Best validated header height the peer sent or announced; -1 when none. */
  syncedHeaders: number;
  banScore: number;
  pingMs: number | null;
  minPingMs: number | null;
  /** How long the outstanding ping has waited, null when none is outstanding. */
  pingWaitMs: number | null;
  bytesSent: number;
  bytesRecv: number;
  /** Unix ms of the last message sent / received (0 = none). */
  lastSend: number;
  lastRecv: number;
  connectedAt: number;
  blocksInFlight: number;
  /** Heights of the blocks requested from this peer and not yet received. */
  inFlightHeights: number[];
  sendHeaders: boolean;
  /** Addresses from `addr` taken within the rate limit / dropped by it (Core's getpeerinfo). */
  addrProcessed: number;
  addrRateLimited: number;
  /** Bytes by message type (Core's bytessent_per_msg / bytesrecv_per_msg). */
  bytesSentPerMsg: Record<string, number>;
  bytesRecvPerMsg: Record<string, number>;
  /** Unix ms of the last transaction / new block from this peer that we accepted (0 = none). */
  lastTxTime: number;
  lastBlockTime: number;
  /** Height reached by this peer's headers pre-sync (Core's presynced_headers); -1 when none runs. */
  presyncedHeaders: number;
}

export interface SyncProgress {
  /** Best validated header height. */
  headers: number;
  /** Connected block height. */
  blocks: number;
  /** Connected peers that finished the handshake. */
  peers: number;
  /** True while headers or blocks are being caught up. */
  syncing: boolean;
  /** blocks / headers, 0..1. */
  fraction: number;
  /** Over the last ~30 s. */
  blocksPerSecond: number;
  /** null while no rate is known. */
  estimatedSecondsLeft: number | null;
}

export interface P2PNodeEvents {
  /** A peer finished the handshake. */
  ready: [PeerInfo];
  disconnect: [PeerInfo, string];
  misbehaving: [{ id: number; host: string; score: number; reason: string }];
  /**
   * A block, headers or a transaction from a peer was refused by the chain or the pool (policy
   * refusals included: a double spend of a pool transaction is one); missing parents are not.
   */
  rejected: [RejectedItem];
}

export interface RejectedItem {
  kind: 'block' | 'headers' | 'tx';
  reason: string;
  /** The score the verdict gave (0 for a policy refusal). */
  dos: number;
  policy: boolean;
  /** The peer's label (id and address). */
  peer: string;
  /** The block's or the last header's hash, or the txid (display hex). */
  hash: string;
  /** The transaction, for kind 'tx'. */
  tx?: Tx;
}

/** Map key of a hash (block or txid, internal byte order). */
export const key = (hash: Uint8Array): string => bytesToHex(hash);

/** A logger that drops everything (the default when none is given). */
export const silent: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
};

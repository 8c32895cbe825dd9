// p2p/: Bitcoin's peer-to-peer protocol over WebSockets (DESIGN.md §1), see docs/p2p.md.
// Owns: message codecs, peers and their scoring, connection management, the address book and
// ban list, headers-first sync with parallel block download, and relay of blocks and transactions.
// Does not own: any validation (the chain and mempool behind ports.ts judge; p2p scores peers by
// their verdicts) or the choice of data directory (node/ passes file paths in).
// Fails soft: malformed or invalid input from a peer costs that peer its connection, never the
// node; only start() rejects, when the listen socket cannot be opened.
export { P2PNode, DEFAULT_TIMEOUTS } from './node.js';
export type { P2PNodeOptions, P2PTimeouts, PeerInfo, SyncProgress, P2PNodeEvents } from './node.js';
export type { Logger, P2PChain, P2PMempool, P2PNetworkParams, Verdict } from './ports.js';
export type { BanEntry } from './banlist.js';
export type { AddrEntry, AddrSource } from './addrbook.js';
export * from './messages.js';
export { normalizeUrl, parseEndpoint, endpointToUrl, ipToBytes, bytesToIp } from './netaddr.js';

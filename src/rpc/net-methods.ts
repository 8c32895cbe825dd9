// Network RPC methods with Bitcoin Core's names, parameters, result fields and error codes
// (Core's rpc/net.cpp): getpeerinfo, getnetworkinfo, getconnectioncount, addnode,
// getaddednodeinfo, disconnectnode, setban, listbanned, clearbanned, ping, getnettotals,
// getnodeaddresses, getaddrmaninfo.
// Owns: turning the p2p node's state into Core's JSON and operator requests into P2PNode calls. Does not
// own connections or bans (p2p/ does). Tally peers are WebSocket URLs: `addr` of an outbound
// peer is the URL dialled (what addnode takes), of an inbound peer the socket's ip:port as Core
// prints it. Fails with RpcError: -8 bad argument, -23/-24 addnode list, -29 no such peer,
// -30 bad or unknown ban entry, -32602 disconnectnode given both or neither of address and nodeid.
import type { ChainParams } from '../consensus/params.js';
import { DEFAULT_MIN_RELAY_FEE_RATE } from '../mempool/policy.js';
import { parseSubnet, subnetContains } from '../p2p/banlist.js';
import { NODE_NETWORK, NODE_NETWORK_LIMITED, PROTOCOL_VERSION } from '../p2p/messages.js';
import { ipToBytes, isRoutable, normalizeUrl, parseEndpoint } from '../p2p/netaddr.js';
import type { PeerInfo } from '../p2p/node.js';
import { JsonAmount } from './amount.js';
import { RpcCode, RpcError } from './errors.js';
import { methodRegistrar } from './params.js';
import type { MempoolPort, NetPort } from './ports.js';
import type { RpcServer } from './server.js';

export interface NetRpcDeps {
  p2p: NetPort;
  params: ChainParams;
  mempool?: Pick<MempoolPort, 'minRelayFeeRate'>;
}

/** Core's -bantime default: 24 hours. */
const DEFAULT_BAN_SECONDS = 86_400;
/** Core's TimeOffsets: the median needs at least this many outbound peers, else 0. */
const MIN_TIME_OFFSETS = 5;
const OTHER_NETWORKS = ['onion', 'i2p', 'cjdns'];

const seconds = (ms: number): number => Math.floor(ms / 1000);

function hostPort(host: string, port: number): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** Core's network names: what is not routable (p2p's isRoutable, as Core's) is not_publicly_routable. */
export function networkOf(host: string): string {
  if (!isRoutable(host)) return 'not_publicly_routable';
  return host.includes(':') ? 'ipv6' : 'ipv4';
}

function servicesNames(hex: string): string[] {
  const bits = BigInt('0x' + hex);
  const names: string[] = [];
  if (bits & NODE_NETWORK) names.push('NETWORK');
  if (bits & NODE_NETWORK_LIMITED) names.push('NETWORK_LIMITED');
  return names;
}

/** The address getpeerinfo shows and disconnectnode matches. */
function peerAddr(p: PeerInfo): string {
  if (!p.inbound) return p.url;
  return p.remoteAddress ? hostPort(p.remoteAddress, p.remotePort) : p.host;
}

/** "/Tally:1.2.3/" -> 10203, Core's CLIENT_VERSION layout (major * 10000 + minor * 100 + patch). */
export function clientVersion(userAgent: string): number {
  const m = /:(\d+)\.(\d+)(?:\.(\d+))?/.exec(userAgent);
  return m ? Number(m[1]) * 10_000 + Number(m[2]) * 100 + Number(m[3] ?? 0) : 0;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : Math.trunc((s[mid - 1] + s[mid]) / 2);
}

export function registerNetMethods(server: RpcServer, deps: NetRpcDeps): void {
  const { p2p } = deps;
  const port = deps.params.defaultPort;
  const reg = methodRegistrar(server);

  const peerJson = (p: PeerInfo, tip: number): Record<string, unknown> => ({
    id: p.id,
    addr: peerAddr(p),
    addrbind: p.localAddress ? hostPort(p.localAddress, p.localPort) : undefined,
    network: networkOf(p.remoteAddress || p.host),
    services: p.services,
    servicesnames: servicesNames(p.services),
    relaytxes: p.relayTxs,
    lastsend: seconds(p.lastSend),
    lastrecv: seconds(p.lastRecv),
    bytessent: p.bytesSent,
    bytesrecv: p.bytesRecv,
    conntime: seconds(p.connectedAt),
    timeoffset: p.timeOffset,
    pingtime: p.pingMs !== null ? p.pingMs / 1000 : undefined,
    minping: p.minPingMs !== null ? p.minPingMs / 1000 : undefined,
    pingwait: p.pingWaitMs !== null ? p.pingWaitMs / 1000 : undefined,
    version: p.version,
    subver: p.subver,
    inbound: p.inbound,
    startingheight: p.startingHeight,
    synced_headers: p.syncedHeaders,
    // Core's last common block; taken as the lower of the peer's best header and our tip, which
    // holds while the peer is on our chain (p2p does not track forks per peer).
    synced_blocks: Math.min(p.syncedHeaders, tip),
    inflight: p.inFlightHeights,
    // Core dropped banscore in 0.21; Tally still scores peers and shows the score.
    banscore: p.banScore,
    // No compact blocks (BIP152): never high-bandwidth either way.
    bip152_hb_to: false,
    bip152_hb_from: false,
    presynced_headers: p.presyncedHeaders,
    // As Core: on for a full-relay outbound peer, for an inbound one once it has sent addresses.
    addr_relay_enabled: !p.inbound || p.addrProcessed + p.addrRateLimited > 0,
    addr_processed: p.addrProcessed,
    addr_rate_limited: p.addrRateLimited,
    permissions: p.noban ? ['noban'] : [],
    // Tally has no feefilter message (BIP133): a peer never sets one.
    minfeefilter: new JsonAmount(0n),
    bytessent_per_msg: p.bytesSentPerMsg,
    bytesrecv_per_msg: p.bytesRecvPerMsg,
    connection_type: p.inbound ? 'inbound' : p.manual ? 'manual' : 'outbound-full-relay',
    // Core's v1 message framing (command + payload) carried in WebSocket frames; no BIP324 (v2).
    transport_protocol_type: 'v1',
    session_id: '',
    last_transaction: seconds(p.lastTxTime),
    last_block: seconds(p.lastBlockTime),
    wsurl: p.url || undefined,
  });

  reg(
    'getpeerinfo',
    [],
    'Returns data about each connected network peer as a json array of objects (Core fields; times in ' +
      'seconds since the epoch, ping times in seconds, addr is the URL dialled or the inbound ip:port).',
    () => {
      const tip = p2p.tipHeight();
      return p2p
        .peerInfo()
        .sort((a, b) => a.id - b.id)
        .map((p) => peerJson(p, tip));
    },
  );

  reg(
    'getnetworkinfo',
    [],
    'Returns an object containing various state info regarding P2P networking.',
    () => {
      const { inbound, outbound } = p2p.connectionCount();
      const offsets = p2p
        .peerInfo()
        .filter((p) => p.ready && !p.inbound)
        .map((p) => p.timeOffset);
      const relayFee = deps.mempool?.minRelayFeeRate ?? DEFAULT_MIN_RELAY_FEE_RATE;
      const localaddresses: { address: string; port: number; score: number }[] = [];
      const self = p2p.url ? parseEndpoint(p2p.url, port) : null;
      if (self && ipToBytes(self.host) && networkOf(self.host) !== 'not_publicly_routable')
        localaddresses.push({ address: self.host, port: self.port, score: 1 });
      return {
        version: clientVersion(p2p.userAgent),
        subversion: p2p.userAgent,
        protocolversion: PROTOCOL_VERSION,
        localservices: p2p.services.toString(16).padStart(16, '0'),
        localservicesnames: servicesNames(p2p.services.toString(16)),
        localrelay: p2p.relaysTxs,
        timeoffset: offsets.length >= MIN_TIME_OFFSETS ? median(offsets) : 0,
        networkactive: p2p.networkActive,
        connections: inbound + outbound,
        connections_in: inbound,
        connections_out: outbound,
        networks: [
          ...['ipv4', 'ipv6'].map((name) => ({
            name,
            limited: false,
            reachable: true,
            proxy: '',
            proxy_randomize_credentials: false,
          })),
          ...OTHER_NETWORKS.map((name) => ({
            name,
            limited: true,
            reachable: false,
            proxy: '',
            proxy_randomize_credentials: false,
          })),
        ],
        relayfee: new JsonAmount(relayFee),
        // The mempool raises its floor by the relay fee rate after an eviction (Core's incremental fee).
        incrementalfee: new JsonAmount(relayFee),
        localaddresses,
        warnings: [],
      };
    },
  );

  reg('getconnectioncount', [], 'Returns the number of connections to other nodes.', () => {
    const { inbound, outbound } = p2p.connectionCount();
    return inbound + outbound;
  });

  reg(
    'addnode',
    ['node', 'command', 'v2transport'],
    'Attempts to add or remove a node from the addnode list, or to try a connection to a node once. ' +
      'node: a peer URL (ws://host:port) or host:port; command: "add", "remove" or "onetry".',
    (r) => {
      const node = r.string(0);
      const command = r.string(1);
      if (command !== 'add' && command !== 'remove' && command !== 'onetry')
        throw r.invalid(1, `unknown command "${command}", expected "add", "remove" or "onetry"`);
      if (r.optBool(2, false))
        throw new RpcError(RpcCode.INVALID_PARAMETER, 'Error: v2transport requested but not enabled');
      const url = normalizeUrl(node, port);
      if (!url) throw r.invalid(0, `not a peer address: ${node}`);
      const ok = p2p.addNode(url, command);
      if (!ok && command === 'add')
        throw new RpcError(RpcCode.CLIENT_NODE_ALREADY_ADDED, 'Error: Node already added');
      if (!ok && command === 'remove')
        throw new RpcError(
          RpcCode.CLIENT_NODE_NOT_ADDED,
          'Error: Node could not be removed. It has not been added previously.',
        );
      return null;
    },
  );

  reg(
    'getaddednodeinfo',
    ['node'],
    'Returns information about the given added node, or all added nodes (onetry nodes are not listed).',
    (r) => {
      const peers = p2p.peerInfo();
      let added = p2p.addedNodes();
      if (r.has(0)) {
        const url = normalizeUrl(r.string(0), port);
        added = added.filter((a) => a === url);
        if (added.length === 0)
          throw new RpcError(RpcCode.CLIENT_NODE_NOT_ADDED, 'Error: Node has not been added.');
      }
      return added.map((url) => {
        const peer = peers.find((p) => !p.inbound && p.url === url);
        return {
          addednode: url,
          connected: peer !== undefined,
          addresses: peer ? [{ address: peerAddr(peer), connected: 'outbound' }] : [],
        };
      });
    },
  );

  reg(
    'disconnectnode',
    ['address', 'nodeid'],
    'Immediately disconnects from the specified peer node, given by address (a URL, ip:port or subnet) ' +
      'or by nodeid (from getpeerinfo), not both.',
    (r) => {
      const byAddress = r.has(0) && r.string(0) !== '';
      if (byAddress === r.has(1))
        throw new RpcError(RpcCode.INVALID_PARAMS, 'Only one of address and nodeid should be provided.');
      const peers = p2p.peerInfo();
      let ids: number[];
      if (byAddress) {
        const text = r.string(0);
        const want = normalizeUrl(text, port);
        ids = peers.filter((p) => want !== null && normalizeUrl(peerAddr(p), port) === want).map((p) => p.id);
        const net = ids.length === 0 ? parseSubnet(text) : null;
        if (net)
          ids = peers
            .filter((p) => subnetContains(net, p.remoteAddress) || subnetContains(net, p.host))
            .map((p) => p.id);
      } else {
        const id = r.int(1);
        ids = peers.filter((p) => p.id === id).map((p) => p.id);
      }
      let found = false;
      for (const id of ids) if (p2p.disconnectPeer(id)) found = true;
      if (!found) throw new RpcError(RpcCode.CLIENT_NODE_NOT_CONNECTED, 'Node not found in connected nodes');
      return null;
    },
  );

  reg(
    'setban',
    ['subnet', 'command', 'bantime', 'absolute'],
    'Attempts to add or remove an IP/Subnet (or a peer host) from the banned list. bantime: seconds ' +
      '(0 = 24 h) or, with absolute=true, a unix time.',
    (r) => {
      const subnet = r.string(0);
      const command = r.string(1);
      if (command !== 'add' && command !== 'remove')
        throw r.invalid(1, `unknown command "${command}", expected "add" or "remove"`);
      if (!parseSubnet(subnet) && !parseEndpoint(subnet, port))
        throw new RpcError(RpcCode.CLIENT_INVALID_IP_OR_SUBNET, 'Error: Invalid IP/Subnet');
      if (command === 'remove') {
        if (!p2p.setBan(subnet, 'remove'))
          throw new RpcError(
            RpcCode.CLIENT_INVALID_IP_OR_SUBNET,
            'Error: Unban failed. Requested address/subnet was not previously manually banned.',
          );
        return null;
      }
      let banTime = r.optInt(2, 0);
      if (r.optBool(3, false)) {
        const now = seconds(Date.now());
        if (banTime < now)
          throw new RpcError(RpcCode.INVALID_PARAMETER, 'Error: Absolute timestamp is in the past');
        banTime -= now;
      } else if (banTime <= 0) banTime = DEFAULT_BAN_SECONDS;
      if (!p2p.setBan(subnet, 'add', banTime))
        throw new RpcError(RpcCode.CLIENT_NODE_ALREADY_ADDED, 'Error: IP/Subnet already banned');
      return null;
    },
  );

  reg('listbanned', [], 'List all manually banned IPs/Subnets (and peers banned for misbehaving).', () => {
    const now = Date.now();
    return p2p.listBanned().map((b) => {
      // Core prints a single address as a full-length subnet.
      const single = !b.address.includes('/') && ipToBytes(b.address) !== null;
      return {
        address: single ? `${b.address}/${b.address.includes(':') ? 128 : 32}` : b.address,
        ban_created: seconds(b.createdAt),
        banned_until: seconds(b.bannedUntil),
        ban_duration: seconds(b.bannedUntil - b.createdAt),
        time_remaining: Math.max(0, seconds(b.bannedUntil - now)),
      };
    });
  });

  /** Book entries that are ws:// to an IP literal (what addr gossip carries), with their network. */
  const ipEntries = (max: number) =>
    p2p.knownAddresses(max).flatMap((e) => {
      const ep = parseEndpoint(e.url, port);
      if (!ep || ep.secure || !ipToBytes(ep.host)) return [];
      return [{ ...e, host: ep.host, port: ep.port, network: networkOf(ep.host) }];
    });
  const NETWORKS = ['ipv4', 'ipv6', ...OTHER_NETWORKS];

  reg(
    'getnodeaddresses',
    ['count', 'network'],
    'Return known addresses, after filtering for quality and recency (count 0 = all; network ipv4 or ipv6).',
    (r) => {
      const count = r.optInt(0, 1);
      if (count < 0) throw new RpcError(RpcCode.INVALID_PARAMETER, 'Address count out of range');
      const network = r.optString(1);
      if (network !== undefined && !NETWORKS.includes(network))
        throw new RpcError(RpcCode.INVALID_PARAMETER, `Network not recognized: ${network}`);
      const out = ipEntries(0 === count ? Number.MAX_SAFE_INTEGER : count * 4)
        .filter((e) => network === undefined || e.network === network)
        .slice(0, count === 0 ? undefined : count);
      return out.map((e) => ({
        time: seconds(e.lastSeen),
        services: Number(NODE_NETWORK),
        address: e.host,
        port: e.port,
        network: e.network,
      }));
    },
  );

  reg(
    'getaddrmaninfo',
    [],
    "Provides information about the node's address manager by returning the number of addresses in the new and tried tables and their sum, per network.",
    () => {
      const entries = ipEntries(0);
      const count = (list: { tried: boolean }[]) => {
        const tried = list.filter((e) => e.tried).length;
        return { new: list.length - tried, tried, total: list.length };
      };
      const out: Record<string, { new: number; tried: number; total: number }> = {};
      for (const n of NETWORKS) out[n] = count(entries.filter((e) => e.network === n));
      // Seeds, addnodes and announced URLs by name are in the book too, outside Core's networks.
      out.all_networks = count(p2p.knownAddresses(0));
      return out;
    },
  );

  reg('clearbanned', [], 'Clear all banned IPs.', () => {
    p2p.clearBanned();
    return null;
  });

  reg('setnetworkactive', ['state'], 'Disable/enable all p2p network activity.', (r) => {
    p2p.setNetworkActive(r.bool(0));
    return p2p.networkActive;
  });

  reg(
    'ping',
    [],
    'Requests that a ping be sent to all other nodes, to measure ping time (see pingtime in getpeerinfo).',
    () => {
      p2p.pingPeers();
      return null;
    },
  );

  reg(
    'getnettotals',
    [],
    'Returns information about network traffic, including bytes in, bytes out, and current system time.',
    () => {
      const t = p2p.netTotals();
      return {
        totalbytesrecv: t.bytesRecv,
        totalbytessent: t.bytesSent,
        timemillis: Date.now(),
        // No -maxuploadtarget: the target is 0 (unlimited), as Core reports without one.
        uploadtarget: {
          timeframe: 86_400,
          target: 0,
          target_reached: false,
          serve_historical_blocks: true,
          bytes_left_in_cycle: 0,
          time_left_in_cycle: 0,
        },
      };
    },
  );
}

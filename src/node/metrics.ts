// The node's figures for Prometheus (issue 17): one prom-client Registry per node (tests run
// several nodes in one process, so never the library's global one), served as text on the RPC
// port's GET /metrics when metrics=1. Owns: the metric names and how each is read. Gauges read
// the parts at scrape time (nothing is sampled in between); counters and histograms are fed by
// node/ from chain, p2p, pool and RPC events. Labels that outsiders choose (an RPC method name, a
// rejection reason) are bounded: unknown methods count as "unknown", and past MAX_REASON_LABELS
// distinct reasons the rest count as "other", so no client or peer can grow the registry.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { WorkerStats } from '../stratum/server.js';

/** Distinct rejection reasons kept as labels (Core's reasons are a fixed set of a few dozen). */
export const MAX_REASON_LABELS = 100;

/** What the gauges read at scrape time. */
export interface MetricsSource {
  tipHeight(): number;
  headerHeight(): number;
  peers(): { inbound: number; outbound: number };
  netTotals(): { bytesSent: number; bytesRecv: number };
  mempool(): { size: number; bytes: number };
  /** Unspent outputs at the tip, or null while the first count is not known yet. */
  utxoCount(): number | null;
  hashrate(): number;
  blocksFound(): number;
  bannedPeers(): number;
  /** The Stratum server's share accounting per worker, or null when no Stratum port is open. */
  stratum(): StratumFigures | null;
}

/** Per-worker share totals (the Stratum server bounds the workers it keeps to 1,024). */
export interface StratumFigures {
  connections: number;
  workers: readonly Pick<
    WorkerStats,
    'name' | 'accepted' | 'rejected' | 'stale' | 'duplicate' | 'lowdifficulty' | 'blocks'
  >[];
}

const SHARE_RESULTS = ['accepted', 'stale', 'duplicate', 'lowdifficulty', 'rejected'] as const;

export class NodeMetrics {
  readonly registry = new Registry();
  private readonly connectSeconds: Histogram;
  private readonly inputsVerified: Counter;
  private readonly verifyRate: Gauge;
  private readonly reorgDepth: Histogram;
  private readonly lastReorgDepth: Gauge;
  private readonly invalid: Counter;
  private readonly alerts: Counter;
  private readonly rpcCalls: Counter;
  private readonly rpcSeconds: Histogram;
  private readonly reasons = new Set<string>();

  constructor(src: MetricsSource) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    const gauge = (name: string, help: string, read: () => number | null) =>
      new Gauge({
        name,
        help,
        registers,
        collect() {
          // Unknown yet (the first UTXO count runs in the background): NaN, never a false 0.
          this.set(read() ?? NaN);
        },
      });
    gauge('tally_tip_height', 'Height of the active chain tip', () => src.tipHeight());
    gauge('tally_header_height', 'Height of the best validated header', () => src.headerHeight());
    new Gauge({
      name: 'tally_peers',
      help: 'Connected peers by direction',
      labelNames: ['direction'],
      registers,
      collect() {
        const c = src.peers();
        this.set({ direction: 'inbound' }, c.inbound);
        this.set({ direction: 'outbound' }, c.outbound);
      },
    });
    // Totals the p2p layer keeps since start: a counter that follows them.
    let sent = 0;
    let recv = 0;
    new Counter({
      name: 'tally_network_bytes_total',
      help: 'Bytes sent to and received from peers since start',
      labelNames: ['direction'],
      registers,
      collect() {
        const t = src.netTotals();
        this.inc({ direction: 'sent' }, Math.max(0, t.bytesSent - sent));
        this.inc({ direction: 'received' }, Math.max(0, t.bytesRecv - recv));
        sent = Math.max(sent, t.bytesSent);
        recv = Math.max(recv, t.bytesRecv);
      },
    });
    gauge('tally_mempool_transactions', 'Transactions in the pool', () => src.mempool().size);
    gauge('tally_mempool_bytes', 'Serialized size of the pool transactions', () => src.mempool().bytes);
    gauge('tally_utxo_count', 'Unspent transaction outputs at the tip', () => src.utxoCount());
    gauge('tally_hashrate_hashes_per_second', "This node's mining hash rate", () => src.hashrate());
    let found = 0;
    new Counter({
      name: 'tally_blocks_found_total',
      help: 'Blocks this node mined since start',
      registers,
      collect() {
        const n = src.blocksFound();
        this.inc(Math.max(0, n - found));
        found = Math.max(found, n);
      },
    });
    gauge('tally_banned_peers', 'Entries of the ban list', () => src.bannedPeers());
    // Stratum: the series follow the server's worker table at each scrape (reset, then its totals),
    // so a worker the server forgot leaves /metrics too and miners cannot grow the registry.
    gauge('tally_stratum_connections', 'Open Stratum connections (NaN without --stratum)', () =>
      src.stratum() === null ? null : (src.stratum()?.connections ?? null),
    );
    new Counter({
      name: 'tally_stratum_shares_total',
      help: 'Stratum shares by worker and result (accepted, stale, duplicate, lowdifficulty, rejected)',
      labelNames: ['worker', 'result'],
      registers,
      collect() {
        this.reset();
        for (const w of src.stratum()?.workers ?? [])
          for (const result of SHARE_RESULTS) this.inc({ worker: w.name, result }, w[result]);
      },
    });
    new Counter({
      name: 'tally_stratum_blocks_total',
      help: 'Blocks found through the Stratum server, by worker',
      labelNames: ['worker'],
      registers,
      collect() {
        this.reset();
        for (const w of src.stratum()?.workers ?? []) this.inc({ worker: w.name }, w.blocks);
      },
    });
    this.connectSeconds = new Histogram({
      name: 'tally_block_connect_seconds',
      help: 'Time to validate and connect a block to the tip',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.inputsVerified = new Counter({
      name: 'tally_inputs_verified_total',
      help: 'Transaction inputs verified in connected blocks',
      registers,
    });
    this.verifyRate = new Gauge({
      name: 'tally_verify_inputs_per_second',
      help: 'Inputs verified per second while connecting the last block that had any',
      registers,
    });
    this.reorgDepth = new Histogram({
      name: 'tally_reorg_depth',
      help: 'Blocks disconnected by each reorganisation',
      buckets: [1, 2, 3, 6, 10, 100],
      registers,
    });
    this.lastReorgDepth = new Gauge({
      name: 'tally_last_reorg_depth',
      help: 'Blocks disconnected by the last reorganisation (0 before any)',
      registers,
    });
    this.invalid = new Counter({
      name: 'tally_invalid_received_total',
      help: 'Blocks, headers and transactions from peers that were refused, by kind, reason and category (consensus or policy)',
      labelNames: ['kind', 'reason', 'category'],
      registers,
    });
    this.alerts = new Counter({
      name: 'tally_supervision_events_total',
      help: 'Supervision events (alertnotify runs for each), by event',
      labelNames: ['event'],
      registers,
    });
    this.rpcCalls = new Counter({
      name: 'tally_rpc_calls_total',
      help: 'RPC calls by method and outcome',
      labelNames: ['method', 'outcome'],
      registers,
    });
    this.rpcSeconds = new Histogram({
      name: 'tally_rpc_duration_seconds',
      help: 'RPC call latency by method',
      labelNames: ['method'],
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30],
      registers,
    });
  }

  blockConnected(seconds: number, inputs: number): void {
    this.connectSeconds.observe(seconds);
    if (inputs === 0) return;
    this.inputsVerified.inc(inputs);
    if (seconds > 0) this.verifyRate.set(inputs / seconds);
  }

  reorg(depth: number): void {
    this.reorgDepth.observe(depth);
    this.lastReorgDepth.set(depth);
  }

  invalidReceived(kind: string, reason: string, category: 'consensus' | 'policy'): void {
    let r = reason;
    if (!this.reasons.has(r)) {
      if (this.reasons.size >= MAX_REASON_LABELS) r = 'other';
      else this.reasons.add(r);
    }
    this.invalid.inc({ kind, reason: r, category });
  }

  /** Pre-creates a supervision event's series at 0, so a scraper sees every event before it happens. */
  declareEvent(event: string): void {
    this.alerts.inc({ event }, 0);
  }

  supervisionEvent(event: string): void {
    this.alerts.inc({ event });
  }

  /** `method` must be a registered name or "unknown" (the caller bounds it). */
  rpcCall(method: string, seconds: number, ok: boolean): void {
    this.rpcCalls.inc({ method, outcome: ok ? 'ok' : 'error' });
    this.rpcSeconds.observe({ method }, seconds);
  }

  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}

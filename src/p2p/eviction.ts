// Inbound eviction: when every inbound slot is taken, which inbound peer makes room for a newcomer,
// as Core's SelectNodeToEvict (net.cpp, AttemptToEvictConnection). Peers are protected by network
// group, lowest ping, recent transactions, recent blocks and, for half of the rest, connection
// age; of those left, the youngest peer of the network group with the most connections goes. So
// an attacker holding every slot from one address range loses a slot to each honest newcomer.
// Owns nothing; pure over its input (the caller supplies a keyed group order).

export interface EvictionCandidate {
  id: number;
  /** Network group (netaddr.netGroup). */
  group: string;
  /** A per-node secret hash of the group: which groups are protected is not predictable. */
  groupKey: number;
  connectedAt: number;
  /** Lowest ping seen, null when none yet. */
  minPingMs: number | null;
  /** Unix ms of the last new transaction / block the peer gave us (0 = none). */
  lastTxTime: number;
  lastBlockTime: number;
  /** Discouraged peers (Core's m_prefer_evict) go first. */
  preferEvict?: boolean;
}

/** Core's protection counts in SelectNodeToEvict. */
export const PROTECT_BY_GROUP = 4;
export const PROTECT_BY_PING = 8;
export const PROTECT_BY_TX = 4;
export const PROTECT_BY_BLOCK = 4;

/** Removes the last `k` after sorting ascending by `cmp` (the best `k` are protected). */
function protect(
  list: EvictionCandidate[],
  cmp: (a: EvictionCandidate, b: EvictionCandidate) => number,
  k: number,
): EvictionCandidate[] {
  const sorted = [...list].sort(cmp);
  return sorted.slice(0, Math.max(0, sorted.length - k));
}

/** The peer to evict, or null when every candidate is protected. */
export function selectEviction(candidates: EvictionCandidate[]): number | null {
  // On a tie every step protects the older connection (the younger sorts first).
  const younger = (a: EvictionCandidate, b: EvictionCandidate): number =>
    b.connectedAt - a.connectedAt || b.id - a.id;
  let list = candidates;
  // Distinct keyed groups, highest key protected (Core: CompareNetGroupKeyed).
  list = protect(list, (a, b) => a.groupKey - b.groupKey || younger(a, b), PROTECT_BY_GROUP);
  // Lowest minimum ping protected (the sort puts the slowest first).
  const ping = (c: EvictionCandidate): number => c.minPingMs ?? Number.MAX_SAFE_INTEGER;
  list = protect(list, (a, b) => ping(b) - ping(a) || younger(a, b), PROTECT_BY_PING);
  // Most recent novel transactions, then blocks (ties: older connection protected).
  list = protect(list, (a, b) => a.lastTxTime - b.lastTxTime || younger(a, b), PROTECT_BY_TX);
  list = protect(list, (a, b) => a.lastBlockTime - b.lastBlockTime || younger(a, b), PROTECT_BY_BLOCK);
  // Half of the rest by longest connection (Core: ProtectEvictionCandidatesByRatio).
  list = protect(list, younger, Math.floor(list.length / 2));
  if (list.length === 0) return null;
  if (list.some((c) => c.preferEvict)) list = list.filter((c) => c.preferEvict);
  // The group with the most connections; on a tie, the one with the youngest member.
  const groups = new Map<string, EvictionCandidate[]>();
  for (const c of list) {
    const g = groups.get(c.group);
    if (g) g.push(c);
    else groups.set(c.group, [c]);
  }
  let worst: EvictionCandidate[] = [];
  let worstYoungest = -Infinity;
  for (const g of groups.values()) {
    const youngest = Math.max(...g.map((c) => c.connectedAt));
    if (g.length > worst.length || (g.length === worst.length && youngest > worstYoungest)) {
      worst = g;
      worstYoungest = youngest;
    }
  }
  // The youngest of that group goes (on equal times, the highest id: connected last).
  let victim = worst[0];
  for (const c of worst) {
    if (c.connectedAt > victim.connectedAt || (c.connectedAt === victim.connectedAt && c.id > victim.id))
      victim = c;
  }
  return victim.id;
}

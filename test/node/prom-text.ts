// A strict reader of the Prometheus text exposition format (version 0.0.4) for tests. The npm
// parser (parse-prometheus-text-format 1.1.1) drops the labels, sum and count of a histogram
// whose `le` label comes first, which is how prom-client writes them, so the tests read the text
// with this instead, and it refuses anything the format does not allow: a sample before its
// family's TYPE, a family declared twice, a bad name, label or value, a label repeated, a
// histogram whose buckets decrease or whose +Inf bucket differs from its _count.

export interface Sample {
  /** The sample's own name (with _bucket, _sum or _count for a histogram). */
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  name: string;
  help: string;
  type: 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';
  samples: Sample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = ['counter', 'gauge', 'histogram', 'summary', 'untyped'];

/** Values as Prometheus reads them (Go's ParseFloat: NaN and Inf in any case; prom-client writes "Nan"). */
function parseValue(s: string, where: string): number {
  if (/^\+?inf(inity)?$/i.test(s)) return Infinity;
  if (/^-inf(inity)?$/i.test(s)) return -Infinity;
  if (/^nan$/i.test(s)) return NaN;
  if (!/^-?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(s)) throw new Error(`${where}: bad value "${s}"`);
  return Number(s);
}

/** Parses `name{a="x",b="y"} value [timestamp]`. */
function parseSample(line: string, where: string): Sample {
  const m = /^([^\s{]+)(\{.*\})?\s+(\S+)(\s+-?\d+)?$/.exec(line);
  if (!m) throw new Error(`${where}: not a sample line: ${line}`);
  const [, name, braces, value] = m;
  if (!NAME.test(name)) throw new Error(`${where}: bad metric name ${name}`);
  const labels: Record<string, string> = {};
  if (braces) {
    let rest = braces.slice(1, -1);
    while (rest.length > 0) {
      const lm = /^([^=]+)="((?:[^"\\\n]|\\[\\"n])*)"(,?)/.exec(rest);
      if (!lm) throw new Error(`${where}: bad labels ${braces}`);
      const [all, key, raw, comma] = lm;
      if (!LABEL.test(key)) throw new Error(`${where}: bad label name ${key}`);
      if (Object.hasOwn(labels, key)) throw new Error(`${where}: label ${key} repeated`);
      labels[key] = raw.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
      rest = rest.slice(all.length);
      if (comma === '' && rest.length > 0) throw new Error(`${where}: bad labels ${braces}`);
    }
  }
  return { name, labels, value: parseValue(value, where) };
}

function familyOf(sample: string, families: Map<string, Family>): Family | undefined {
  const f = families.get(sample);
  if (f) return f;
  const base = sample.replace(/_(bucket|sum|count)$/, '');
  const h = families.get(base);
  return h && (h.type === 'histogram' || h.type === 'summary') ? h : undefined;
}

function checkHistogram(f: Family): void {
  const series = new Map<string, Sample[]>();
  for (const s of f.samples) {
    const { le: _le, ...rest } = s.labels;
    const k = JSON.stringify(rest);
    if (!series.has(k)) series.set(k, []);
    series.get(k)!.push(s);
  }
  for (const [k, samples] of series) {
    const buckets = samples.filter((s) => s.name === `${f.name}_bucket`);
    const count = samples.find((s) => s.name === `${f.name}_count`);
    if (!count || !samples.some((s) => s.name === `${f.name}_sum`))
      throw new Error(`histogram ${f.name}${k}: _sum or _count missing`);
    let prevLe = -Infinity;
    let prev = 0;
    for (const b of buckets) {
      const le = parseValue(b.labels.le ?? '', `histogram ${f.name}`);
      if (le <= prevLe || b.value < prev) throw new Error(`histogram ${f.name}${k}: buckets out of order`);
      prevLe = le;
      prev = b.value;
    }
    if (prevLe !== Infinity || prev !== count.value)
      throw new Error(`histogram ${f.name}${k}: +Inf bucket differs from _count`);
  }
}

export function parsePromText(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  const lines = text.split('\n');
  if (lines.at(-1) !== '') throw new Error('the text must end with a newline');
  lines.forEach((line, i) => {
    const where = `line ${i + 1}`;
    if (line === '') return;
    const help = /^# HELP (\S+) (.*)$/.exec(line);
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (help || type) {
      const name = (help ?? type)![1];
      if (!NAME.test(name)) throw new Error(`${where}: bad metric name ${name}`);
      let f = families.get(name);
      if (!f) families.set(name, (f = { name, help: '', type: 'untyped', samples: [] }));
      if (help) f.help = help[2];
      if (type) {
        if (!TYPES.includes(type[2])) throw new Error(`${where}: unknown type ${type[2]}`);
        if (f.samples.length > 0) throw new Error(`${where}: TYPE after samples of ${name}`);
        f.type = type[2] as Family['type'];
      }
      return;
    }
    if (line.startsWith('#')) return;
    const s = parseSample(line, where);
    const f = familyOf(s.name, families);
    if (!f) throw new Error(`${where}: sample ${s.name} of no declared family`);
    f.samples.push(s);
  });
  for (const f of families.values()) if (f.type === 'histogram') checkHistogram(f);
  return families;
}

/** The value of the one sample named `name` (or `name` of the family) whose labels include `labels`. */
export function sampleValue(
  families: Map<string, Family>,
  name: string,
  labels: Record<string, string> = {},
): number {
  const f = familyOf(name, families);
  if (!f) throw new Error(`metric ${name} missing`);
  const s = f.samples.find(
    (x) => x.name === name && Object.entries(labels).every(([k, v]) => x.labels[k] === v),
  );
  if (!s) throw new Error(`no ${name} sample with ${JSON.stringify(labels)}`);
  return s.value;
}

/** GET /metrics of a node's RPC port, checked (status, content type) and read strictly. */
export async function scrapeMetrics(rpcPort: number): Promise<Map<string, Family>> {
  const res = await fetch(`http://127.0.0.1:${rpcPort}/metrics`);
  if (res.status !== 200) throw new Error(`GET /metrics answered ${res.status}`);
  const type = res.headers.get('content-type') ?? '';
  if (!/^text\/plain; version=0\.0\.4/.test(type)) throw new Error(`GET /metrics content type ${type}`);
  return parsePromText(await res.text());
}

// Builds and mines the genesis block of each Tally network and writes genesis.json.
//
//   npm run build && node dist/scripts/mine-genesis.js [--time UNIX] [--half-life SECONDS] [--out FILE]
//
// The network constants below are the source of genesis.json; docs/genesis.md explains each
// choice. Mining is deterministic for a given --time (nonces are tried from 0 up), so a rerun with
// the recorded time reproduces the committed file. The file is validated with the node's own
// loader before it is written.
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { sha256d } from '../src/crypto/hash.js';
import { createGenesisBlock, pushBytes } from '../src/consensus/genesis.js';
import { networkEntry, parseGenesisFile, type NetworkName } from '../src/consensus/params.js';
import { compactToTarget } from '../src/consensus/pow.js';

const HEADLINE = 'Tally 24/Nov/2026 A public ledger opens: fifty coins a block, no one in charge';
const COIN = 100_000_000n;
const OP_0 = 0x00;
const OP_RETURN = 0x6a;

interface NetworkSpec {
  magic: string;
  defaultPort: number;
  rpcPort: number;
  prefixes: { pubkeyHash: number; scriptHash: number; wif: number };
  powLimitBits: number;
  asert: boolean;
}

const NETWORKS: Record<NetworkName, NetworkSpec> = {
  main: {
    magic: 'e7a11e01',
    defaultPort: 8533,
    rpcPort: 8532,
    prefixes: { pubkeyHash: 65, scriptHash: 63, wif: 193 }, // T..., S..., WIF V.../7...
    powLimitBits: 0x1e00ffff, // about 2^24 hashes a block
    asert: true,
  },
  test: {
    magic: 'e7a11e02',
    defaultPort: 18533,
    rpcPort: 18532,
    prefixes: { pubkeyHash: 127, scriptHash: 125, wif: 255 }, // t..., s..., WIF e.../9...
    powLimitBits: 0x1e00ffff,
    asert: true,
  },
  regtest: {
    magic: 'e7a11e03',
    defaultPort: 18544,
    rpcPort: 18543,
    prefixes: { pubkeyHash: 123, scriptHash: 60, wif: 251 }, // r..., R..., WIF e.../9...
    powLimitBits: 0x207fffff, // every other hash wins, as on Bitcoin's regtest
    asert: false,
  },
};

/** Tries nonces from 0 up; the header's hash (little-endian number) must not exceed the target. */
function mine(header: Uint8Array, target: bigint): number | undefined {
  const view = new DataView(header.buffer, header.byteOffset, header.length);
  const targetLE = new Uint8Array(32);
  for (let i = 0, t = target; i < 32; i++, t >>= 8n) targetLE[i] = Number(t & 0xffn);
  for (let nonce = 0; nonce <= 0xffffffff; nonce++) {
    view.setUint32(76, nonce, true);
    const h = sha256d(header);
    let i = 31;
    while (i >= 0 && h[i] === targetLE[i]) i--;
    if (i < 0 || h[i] < targetLE[i]) return nonce;
    if ((nonce & 0x3fffff) === 0x3fffff) process.stderr.write('.');
  }
  return undefined;
}

function buildNetwork(name: NetworkName, spec: NetworkSpec, time: number, halfLife: number): object {
  const scriptSig = new Uint8Array([
    OP_0, // BIP34: the coinbase opens with its height, 0
    ...pushBytes(new TextEncoder().encode(HEADLINE)),
    ...pushBytes(new TextEncoder().encode(name)), // gives each network its own genesis
  ]);
  const powLimit = compactToTarget(spec.powLimitBits).target;
  let block;
  for (let t = time; ; t++) {
    const genesisSpec = {
      version: 1,
      time: t,
      bits: spec.powLimitBits,
      nonce: 0,
      scriptSig,
      reward: 50n * COIN,
      outputScript: Uint8Array.of(OP_RETURN), // nobody can spend the genesis reward
    };
    const started = performance.now();
    const nonce = mine(createGenesisBlock(genesisSpec).header.encode(), powLimit);
    if (nonce === undefined) continue; // nonce space exhausted: next second
    block = createGenesisBlock({ ...genesisSpec, nonce });
    const secs = (performance.now() - started) / 1000;
    console.error(`\n${name}: nonce ${nonce} in ${secs.toFixed(1)} s -> ${block.hashHex()}`);
    break;
  }
  return networkEntry(
    {
      name,
      magic: spec.magic,
      defaultPort: spec.defaultPort,
      rpcPort: spec.rpcPort,
      prefixes: spec.prefixes,
      powLimitBits: spec.powLimitBits,
      targetSpacing: 600,
      retarget: spec.asert ? { kind: 'asert', halfLife } : { kind: 'none' },
      initialSubsidy: 50n * COIN,
      halvingInterval: 210_000,
      coinbaseMaturity: 100,
      maxBlockSize: 1_000_000,
      maxBlockSigops: 20_000,
      seeds: [],
      // Core's regtest checks BIP30 at every height (its BIP34Hash is unset).
      bip34ImpliesBIP30: name !== 'regtest',
    },
    block,
    HEADLINE,
  );
}

function main(): void {
  const { values } = parseArgs({
    options: {
      time: { type: 'string' },
      'half-life': { type: 'string', default: '21600' },
      out: { type: 'string', default: 'genesis.json' },
    },
  });
  const time = values.time === undefined ? Math.floor(Date.now() / 1000) : Number(values.time);
  const halfLife = Number(values['half-life']);
  if (!Number.isSafeInteger(time) || time < 0 || time > 0xffffffff)
    throw new Error('--time: expected unix seconds');
  if (!Number.isSafeInteger(halfLife) || halfLife <= 0) throw new Error('--half-life: expected seconds');
  const file: Record<string, object> = {};
  for (const name of ['main', 'test', 'regtest'] as const) {
    file[name] = buildNetwork(name, NETWORKS[name], time, halfLife);
  }
  parseGenesisFile(file);
  writeFileSync(values.out, JSON.stringify(file, null, 2) + '\n');
  console.error(`wrote ${values.out} (time ${time}, half-life ${halfLife} s)`);
}

main();

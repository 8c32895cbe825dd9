// The install step (`npm ci`, `npm install`): builds the two native addons with node-gyp, each on
// its own so one failing leaves the other:
// - the SHA-256d nonce kernel (native/, binding.gyp): without it the miner runs the WebAssembly
//   kernel (src/mining/hasher.ts);
// - the one-shot hashes (native/hash/, OpenSSL's functions through Node's own headers): without it
//   src/crypto/hash.ts hashes through node:crypto.
// Both are optional: when there is no compiler or no Node headers, this says so in one line per
// addon and exits 0. TALLY_NATIVE=0 skips both. Node's own headers are used when the install has
// them, so the build needs no network.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

if (process.env.TALLY_NATIVE === '0') {
  console.log(
    'tally: native addons not built (TALLY_NATIVE=0); mining uses WebAssembly, hashing node:crypto',
  );
  process.exit(0);
}
const prefix = dirname(dirname(process.execPath));
const nodedir = existsSync(join(prefix, 'include', 'node', 'node_api.h')) ? [`--nodedir=${prefix}`] : [];
// npm names its bundled node-gyp to install scripts; otherwise one on PATH.
const gyp = process.env.npm_config_node_gyp;

function build(dir, built, fallback) {
  const args = ['rebuild', '--release', `--directory=${dir}`, ...nodedir];
  const res = gyp
    ? spawnSync(process.execPath, [gyp, ...args], { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' })
    : spawnSync('node-gyp', args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', shell: true });
  if (res.status === 0) {
    console.log(`tally: ${built}`);
    return;
  }
  // The first complaint of the compiler, make or node-gyp, not gyp's closing boilerplate.
  const lines = `${res.stdout ?? ''}\n${res.stderr ?? ''}`.split('\n').map((l) => l.trim());
  const cause = lines.find((l) => /error|not found|ENOENT|EACCES/i.test(l) && !/^gyp ERR! stack/.test(l));
  const why = res.error?.message ?? cause ?? (lines.filter(Boolean).pop() || 'no output');
  console.log(`tally: ${fallback.replace('%s', why)}`);
}

build(
  '.',
  'native sha256d kernel built (build/Release/tally_sha256d.node)',
  'native sha256d kernel not built (%s); mining uses WebAssembly',
);
build(
  'native/hash',
  'native hashes built (native/hash/build/Release/tally_hash.node)',
  'native hashes not built (%s); hashing uses node:crypto',
);
process.exit(0);

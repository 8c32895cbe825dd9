// fundrawtransaction against a real node (issue 15): a raw transaction gets wallet coins and change
// and, signed by the wallet, is accepted by the pool at the fee the call reported; preset inputs are
// kept (add_inputs false funds from them alone), changeAddress/changePosition place the change,
// subtractFeeFromOutputs makes the recipient pay, lockUnspents locks what was added, includeWatching
// spends a solvable watch-only coin; Core's errors.
// subtractfeefromamount in the sends; addmultisigaddress (watched, signed, spent; a partial share).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { getParams } from '../../src/consensus/params.js';
import { encodeAddress } from '../../src/primitives/address.js';
import { rpcFails, startWalletNode, stopAll } from './cluster.js';
import { independentKey } from '../rpc/helpers.js';

after(stopAll);

interface Funded {
  hex: string;
  fee: number;
  changepos: number;
}
interface Decoded {
  vin: { txid: string; vout: number }[];
  vout: { value: number; scriptPubKey: { address?: string } }[];
}
const sats = (coins: number) => Math.round(coins * 1e8);

test('fundrawtransaction: funds, places change, keeps preset inputs, subtracts the fee, locks; Core errors', async () => {
  const { node } = await startWalletNode(105);
  const rpc = node.rpc.bind(node);
  const other = encodeAddress('pubkeyhash', new Uint8Array(20).fill(7), getParams('regtest').prefixes);
  const decode = (hex: string) => rpc<Decoded>('decoderawtransaction', [hex]);
  const valueOf = async (vin: Decoded['vin']) => {
    let s = 0;
    for (const i of vin) {
      const { hex } = await rpc<{ hex: string }>('gettransaction', [i.txid]);
      s += sats((await decode(hex)).vout[i.vout].value);
    }
    return s;
  };
  const outSum = (d: Decoded) => d.vout.reduce((s, o) => s + sats(o.value), 0);

  // Plain: coins and change are added; the fee reported is inputs less outputs, and the pool takes
  // the wallet-signed transaction at that fee.
  const raw = await rpc<string>('createrawtransaction', [[], { [other]: 1 }]);
  const f = await rpc<Funded>('fundrawtransaction', [raw, { fee_rate: 5 }]);
  const d = await decode(f.hex);
  assert.equal(d.vout.length, 2);
  assert.ok(f.changepos === 0 || f.changepos === 1);
  assert.equal(d.vout[1 - f.changepos].scriptPubKey.address, other);
  assert.equal(await valueOf(d.vin), outSum(d) + sats(f.fee));
  const signed = await rpc<{ hex: string; complete: boolean }>('signrawtransactionwithwallet', [f.hex]);
  assert.equal(signed.complete, true);
  const size = signed.hex.length / 2;
  assert.ok(sats(f.fee) >= 5 * size && sats(f.fee) < 6 * size, `fee ${f.fee} for ${size} bytes at 5 sat/vB`);
  const txid = await rpc<string>('sendrawtransaction', [signed.hex]);
  const entry = await rpc<{ fees: { base: number } }>('getmempoolentry', [txid]);
  assert.equal(entry.fees.base, f.fee);

  // changeAddress and changePosition.
  const mine = await rpc<string>('getnewaddress');
  const placed = await rpc<Funded>('fundrawtransaction', [raw, { changeAddress: mine, changePosition: 0 }]);
  assert.equal(placed.changepos, 0);
  assert.equal((await decode(placed.hex)).vout[0].scriptPubKey.address, mine);

  // A preset input is kept; with add_inputs false it funds alone (or the call says it cannot).
  const coin = (await rpc<{ txid: string; vout: number; amount: number }[]>('listunspent')).find(
    (u) => u.amount > 2,
  )!;
  const onePreset = await rpc<string>('createrawtransaction', [
    [{ txid: coin.txid, vout: coin.vout }],
    { [other]: 2 },
  ]);
  const kept = await decode(
    (await rpc<Funded>('fundrawtransaction', [onePreset, { add_inputs: false, lockUnspents: true }])).hex,
  );
  assert.deepEqual(
    kept.vin.map((i) => [i.txid, i.vout]),
    [[coin.txid, coin.vout]],
  );
  const tooMuch = await rpc<string>('createrawtransaction', [
    [{ txid: coin.txid, vout: coin.vout }],
    { [other]: coin.amount + 1 },
  ]);
  await assert.rejects(
    rpc('fundrawtransaction', [tooMuch, { add_inputs: false }]),
    rpcFails(-4, /^The preselected coins total amount does not cover the transaction target/),
  );
  const grown = await decode((await rpc<Funded>('fundrawtransaction', [tooMuch])).hex);
  assert.equal(grown.vin[0].txid, coin.txid);
  assert.ok(grown.vin.length > 1);

  // subtractFeeFromOutputs: the recipient pays the fee; inputs = outputs + fee.
  const sub = await rpc<Funded>('fundrawtransaction', [raw, { subtractFeeFromOutputs: [0], fee_rate: 3 }]);
  const ds = await decode(sub.hex);
  const paid = ds.vout.find((o) => o.scriptPubKey.address === other)!;
  assert.ok(sub.fee > 0);
  assert.equal(sats(paid.value), sats(1) - sats(sub.fee));
  assert.equal(await valueOf(ds.vin), outSum(ds) + sats(sub.fee));

  // lockUnspents: the coins added are locked.
  const locking = await rpc<Funded>('fundrawtransaction', [raw, { lockUnspents: true }]);
  const locked = await rpc<{ txid: string; vout: number }[]>('listlockunspent');
  for (const i of (await decode(locking.hex)).vin)
    assert.ok(
      locked.some((l) => l.txid === i.txid && l.vout === i.vout),
      `${i.txid}:${i.vout} locked`,
    );

  // includeWatching: with every coin it can sign for locked, a watch-only coin it knows how to
  // spend (an imported public key's) funds the transaction only when asked.
  const outsideKey = independentKey();
  await rpc('importpubkey', [outsideKey.pubkey, '', false]);
  const toWatched = await rpc<string>('sendtoaddress', [outsideKey.address, 5]);
  await rpc('generatetoaddress', [1, other]);
  await rpc('lockunspent', [true]);
  const own = (await rpc<{ txid: string; vout: number; spendable: boolean }[]>('listunspent')).filter(
    (u) => u.spendable,
  );
  await rpc('lockunspent', [false, own.map((u) => ({ txid: u.txid, vout: u.vout }))]);
  await assert.rejects(rpc('fundrawtransaction', [raw]), rpcFails(-4, /^Insufficient funds$/));
  const watching = await decode((await rpc<Funded>('fundrawtransaction', [raw, true])).hex);
  assert.deepEqual(
    watching.vin.map((i) => i.txid),
    [toWatched],
  );
  assert.equal(
    (await decode((await rpc<Funded>('fundrawtransaction', [raw, { includeWatching: true }])).hex)).vin[0]
      .txid,
    toWatched,
  );
  await rpc('lockunspent', [true]);

  // Core's errors.
  await assert.rejects(rpc('fundrawtransaction', ['zz']), rpcFails(-22, /^TX decode failed/));
  await assert.rejects(
    rpc('fundrawtransaction', [await rpc('createrawtransaction', [[], {}])]),
    rpcFails(-8, /^TX must have at least one output$/),
  );
  await assert.rejects(
    rpc('fundrawtransaction', [raw, { fee_rate: 1, feeRate: 0.0001 }]),
    rpcFails(-8, /^Cannot specify both fee_rate \(sat\/vB\) and feeRate \(BTC\/kvB\)$/),
  );
  await assert.rejects(
    rpc('fundrawtransaction', [raw, { changePosition: 2 }]),
    rpcFails(-8, /^changePosition out of bounds$/),
  );
  await assert.rejects(
    rpc('fundrawtransaction', [raw, { bogus: 1 }]),
    rpcFails(-3, /^Unexpected key bogus$/),
  );
  await assert.rejects(
    rpc('fundrawtransaction', [raw, { subtractFeeFromOutputs: [1] }]),
    rpcFails(-8, /^Invalid parameter, position too large: 1$/),
  );
  await assert.rejects(
    rpc('fundrawtransaction', [raw, { changeAddress: 'nope' }]),
    rpcFails(-5, /^Change address must be a valid/),
  );
  const unknown = await rpc<string>('createrawtransaction', [
    [{ txid: 'ab'.repeat(32), vout: 3 }],
    { [other]: 1 },
  ]);
  await assert.rejects(
    rpc('fundrawtransaction', [unknown]),
    rpcFails(-4, /^Unable to find UTXO for external input$/),
  );
  const huge = await rpc<string>('createrawtransaction', [[], { [other]: 100_000 }]);
  await assert.rejects(rpc('fundrawtransaction', [huge]), rpcFails(-4, /^Insufficient funds$/));
});

test('subtractfeefromamount: sendtoaddress, sendmany and send make the recipients pay the fee, as Core', async () => {
  const { node } = await startWalletNode(102);
  const rpc = node.rpc.bind(node);
  const prefixes = getParams('regtest').prefixes;
  const [a, b, c] = [1, 2, 3].map((k) => encodeAddress('pubkeyhash', new Uint8Array(20).fill(k), prefixes));
  const paidTo = async (txid: string) => {
    const t = await rpc<{ hex: string; fee: number }>('gettransaction', [txid]);
    const d = await rpc<Decoded>('decoderawtransaction', [t.hex]);
    const to = (addr: string) => sats(d.vout.find((o) => o.scriptPubKey.address === addr)?.value ?? 0);
    return { fee: -sats(t.fee), to };
  };

  const one = await paidTo(
    await rpc<string>('sendtoaddress', { address: a, amount: 1, subtractfeefromamount: true }),
  );
  assert.ok(one.fee > 0);
  assert.equal(one.to(a), sats(1) - one.fee);

  // sendmany: the fee split between the two named addresses (the first pays the remainder); an
  // address not among the amounts is ignored, as Core.
  const many = await paidTo(
    await rpc<string>('sendmany', {
      dummy: '',
      amounts: { [a]: 1, [b]: 1, [c]: 1 },
      subtractfeefrom: [b, c, 'x'],
      fee_rate: 7,
    }),
  );
  assert.equal(many.to(a), sats(1));
  assert.equal(many.to(b) + many.to(c), 2 * sats(1) - many.fee);
  assert.equal(many.to(c), sats(1) - Math.floor(many.fee / 2));

  const sent = await rpc<{ txid: string }>('send', {
    outputs: [{ [a]: 0.5 }, { [b]: 0.25 }],
    options: { subtract_fee_from_outputs: [1] },
  });
  const s = await paidTo(sent.txid);
  assert.equal(s.to(a), sats(0.5));
  assert.equal(s.to(b), sats(0.25) - s.fee);

  // Too small to pay its fee: Core's -6; a position past the outputs: -8.
  await assert.rejects(
    rpc('sendtoaddress', { address: a, amount: 0.00001, subtractfeefromamount: true, fee_rate: 20 }),
    rpcFails(
      -6,
      /^The transaction amount is too small to (pay the fee|send after the fee has been deducted)$/,
    ),
  );
  await assert.rejects(
    rpc('send', { outputs: [{ [a]: 0.5 }], options: { subtract_fee_from_outputs: [1] } }),
    rpcFails(-8, /^Invalid parameter, position too large: 1$/),
  );
});

test('addmultisigaddress: the wallet watches the P2SH address, signs its share, spends a 2-of-3 it holds two keys of', async () => {
  const { node } = await startWalletNode(102);
  const rpc = node.rpc.bind(node);
  const [a1, a2] = [await rpc<string>('getnewaddress'), await rpc<string>('getnewaddress')];
  const pub = async (a: string) => (await rpc<{ pubkey: string }>('getaddressinfo', [a])).pubkey;
  const outside = independentKey();
  interface Ms {
    address: string;
    redeemScript: string;
    descriptor: string;
  }
  const ms = await rpc<Ms>('addmultisigaddress', [2, [a1, await pub(a2), outside.pubkey], 'shared']);
  // The same as createmultisig of the same public keys.
  assert.deepEqual(ms, await rpc<Ms>('createmultisig', [2, [await pub(a1), await pub(a2), outside.pubkey]]));
  const info = await rpc<Record<string, unknown>>('getaddressinfo', [ms.address]);
  assert.equal(info.ismine, true);
  assert.equal(info.isscript, true);
  assert.equal(info.script, 'multisig');
  assert.equal(info.sigsrequired, 2);
  assert.deepEqual(info.labels, ['shared']);
  assert.deepEqual(await rpc('getaddressesbylabel', ['shared']), { [ms.address]: { purpose: 'receive' } });

  // Paid and confirmed, the coin is the wallet's; the wallet alone spends it (it holds 2 of 3 keys).
  const funding = await rpc<string>('sendtoaddress', [ms.address, 2]);
  await rpc('generatetoaddress', [1, a1]);
  const coin = (
    await rpc<{ txid: string; vout: number; address: string; spendable: boolean; redeemScript?: string }[]>(
      'listunspent',
    )
  ).find((u) => u.txid === funding && u.address === ms.address)!;
  assert.equal(coin.spendable, true);
  assert.equal(coin.redeemScript, ms.redeemScript);
  const spend = await rpc<string>('createrawtransaction', [
    [{ txid: coin.txid, vout: coin.vout }],
    { [a1]: 1.999 },
  ]);
  const signed = await rpc<{ hex: string; complete: boolean }>('signrawtransactionwithwallet', [spend]);
  assert.equal(signed.complete, true);
  await rpc('sendrawtransaction', [signed.hex]);

  // A 2-of-2 with an outside key: watched, and the wallet signs only its share.
  const half = await rpc<Ms>('addmultisigaddress', [2, [a1, outside.pubkey]]);
  const info2 = await rpc<{ ismine: boolean; solvable: boolean; iswatchonly: boolean }>('getaddressinfo', [
    half.address,
  ]);
  assert.equal(info2.solvable, true);
  assert.equal(info2.ismine, false);
  const paidHalf = await rpc<string>('sendtoaddress', [half.address, 1]);
  await rpc('generatetoaddress', [1, a1]);
  const watched = await rpc<{ mine: { trusted: number } }>('getbalances');
  assert.ok(watched.mine.trusted > 0);
  const t = await rpc<{ hex: string }>('gettransaction', [paidHalf]);
  const d = await rpc<{ vout: { scriptPubKey: { address?: string } }[] }>('decoderawtransaction', [t.hex]);
  const n = d.vout.findIndex((o) => o.scriptPubKey.address === half.address);
  const partial = await rpc<{ complete: boolean; hex: string }>('signrawtransactionwithwallet', [
    await rpc<string>('createrawtransaction', [[{ txid: paidHalf, vout: n }], { [a1]: 0.999 }]),
  ]);
  assert.equal(partial.complete, false);
  assert.notEqual(
    partial.hex,
    await rpc<string>('createrawtransaction', [[{ txid: paidHalf, vout: n }], { [a1]: 0.999 }]),
  );

  // Core's errors.
  await assert.rejects(rpc('addmultisigaddress', [1, ['nope']]), rpcFails(-5, /^Invalid address: nope$/));
  await assert.rejects(
    rpc('addmultisigaddress', [1, [ms.address]]),
    rpcFails(-5, /does not refer to a key$/),
  );
  await assert.rejects(
    rpc('addmultisigaddress', [1, [outside.address]]),
    rpcFails(-5, new RegExp(`^no full public key for address ${outside.address}$`)),
  );
  await assert.rejects(rpc('addmultisigaddress', [1, [a1], '*']), rpcFails(-11, /^Invalid label name$/));
  await assert.rejects(rpc('addmultisigaddress', [3, [a1, a2]]), rpcFails(-8, /^not enough keys supplied/));
  await assert.rejects(
    rpc('addmultisigaddress', [1, [a1], '', 'bech32']),
    rpcFails(-5, /^Unknown address type 'bech32'$/),
  );
});

test("simulaterawtransaction: the wallet's balance change over transactions in order; Core's errors", async () => {
  const { node } = await startWalletNode(102);
  const rpc = node.rpc.bind(node);
  const other = encodeAddress('pubkeyhash', new Uint8Array(20).fill(5), getParams('regtest').prefixes);
  const own = await rpc<string>('getnewaddress');
  const signedTx = async (to: string, amount: number) => {
    const f = await rpc<Funded>('fundrawtransaction', [
      await rpc('createrawtransaction', [[], { [to]: amount }]),
    ]);
    const s = await rpc<{ hex: string }>('signrawtransactionwithwallet', [f.hex]);
    const d = await rpc<Decoded & { txid: string }>('decoderawtransaction', [s.hex]);
    return {
      hex: s.hex,
      fee: sats(f.fee),
      txid: d.txid,
      vout: d.vout.findIndex((o) => o.scriptPubKey.address === to),
    };
  };
  const change = async (hexes: string[], options?: object) =>
    sats(
      (await rpc<{ balance_change: number }>('simulaterawtransaction', options ? [hexes, options] : [hexes]))
        .balance_change,
    );

  const out = await signedTx(other, 1);
  assert.equal(await change([out.hex]), -(sats(1) + out.fee));
  const self = await signedTx(own, 1);
  assert.equal(await change([self.hex]), -self.fee);
  // The second spends the first's output to us: both count, in order.
  const next = await rpc<{ hex: string }>('signrawtransactionwithwallet', [
    await rpc('createrawtransaction', [[{ txid: self.txid, vout: self.vout }], { [other]: 0.5 }]),
  ]);
  assert.equal(await change([self.hex, next.hex]), -self.fee - sats(1));
  assert.equal(await change([]), 0);

  // Watch-only outputs count with include_watchonly.
  await rpc('importaddress', [other, '', false]);
  assert.equal(await change([out.hex]), -(sats(1) + out.fee));
  assert.equal(await change([out.hex], { include_watchonly: true }), -out.fee);

  await assert.rejects(
    change([self.hex, self.hex]),
    rpcFails(-8, /^Transaction\(s\) are spending the same output more than once$/),
  );
  await assert.rejects(
    change([next.hex]),
    rpcFails(-8, /^One or more transaction inputs are missing or have been spent already$/),
  );
  await assert.rejects(change(['zz']), rpcFails(-22, /^Transaction hex string decoding failure\.$/));
  await assert.rejects(change([out.hex], { bogus: true }), rpcFails(-3, /^Unexpected key bogus$/));
  // Once in the pool, its inputs are spent.
  await rpc('sendrawtransaction', [out.hex]);
  await assert.rejects(change([out.hex]), rpcFails(-8, /spent already$/));
});

test("fundrawtransaction: external inputs (solving_data, input_weights) and Core's other options", async () => {
  const { node } = await startWalletNode(102);
  const rpc = node.rpc.bind(node);
  const other = encodeAddress('pubkeyhash', new Uint8Array(20).fill(9), getParams('regtest').prefixes);
  const decode = (hex: string) =>
    rpc<{ vin: { txid: string; vout: number; sequence: number }[]; vout: Decoded['vout'] }>(
      'decoderawtransaction',
      [hex],
    );
  const fund = (hex: string, options: object) => rpc<Funded>('fundrawtransaction', [hex, options]);
  const outside = independentKey();
  const ms = await rpc<{ address: string; redeemScript: string }>('createmultisig', [1, [outside.pubkey]]);
  const paid = async (address: string) => {
    const txid = await rpc<string>('sendtoaddress', [address, 3]);
    const d = await decode((await rpc<{ hex: string }>('gettransaction', [txid])).hex);
    return { txid, vout: d.vout.findIndex((o) => o.scriptPubKey.address === address) };
  };
  const ext = await paid(outside.address);
  const extMs = await paid(ms.address);
  await rpc('generatetoaddress', [1, other]);
  const spending = (coin: { txid: string; vout: number }, amount = 4) =>
    rpc<string>('createrawtransaction', [[coin], { [other]: amount }]);
  const raw = await spending(ext);
  const where = `COutPoint\\(${ext.txid.slice(0, 10)}, ${ext.vout}\\)`;

  // Not the wallet's and no solving data: Core's -4; a coin nowhere: -4 too.
  await assert.rejects(
    rpc('fundrawtransaction', [raw]),
    rpcFails(-4, new RegExp(`^Not solvable pre-selected input ${where}$`)),
  );
  await assert.rejects(
    rpc('fundrawtransaction', [await spending({ txid: 'cd'.repeat(32), vout: 1 })]),
    rpcFails(-4, /^Unable to find UTXO for external input$/),
  );

  // With its public key the input is solvable and its size counts: the wallet adds coins, the
  // outside key and the wallet sign, and the pool takes it at the reported fee, at least 5 sat/vB.
  const f = await fund(raw, { solving_data: { pubkeys: [outside.pubkey] }, fee_rate: 5 });
  const d = await decode(f.hex);
  assert.deepEqual([d.vin[0].txid, d.vin[0].vout], [ext.txid, ext.vout]);
  assert.ok(d.vin.length > 1);
  const byKey = await rpc<{ hex: string }>('signrawtransactionwithkey', [f.hex, [outside.wif]]);
  const signed = await rpc<{ hex: string; complete: boolean }>('signrawtransactionwithwallet', [byKey.hex]);
  assert.equal(signed.complete, true);
  const size = signed.hex.length / 2;
  assert.ok(sats(f.fee) >= 5 * size && sats(f.fee) < 6 * size, `fee ${f.fee} for ${size} bytes at 5 sat/vB`);
  const txid = await rpc<string>('sendrawtransaction', [signed.hex]);
  assert.equal((await rpc<{ fees: { base: number } }>('getmempoolentry', [txid])).fees.base, f.fee);

  // The same key as a descriptor, or the input's weight (4 × its 149 bytes), gives the same fee; a
  // heavier weight a higher one. A P2SH multisig input is solved by its redeem script.
  const p2pkh = await spending(ext, 1);
  const byPubkey = await fund(p2pkh, { solving_data: { pubkeys: [outside.pubkey] }, fee_rate: 2 });
  const { descriptor } = await rpc<{ descriptor: string }>('getdescriptorinfo', [`pkh(${outside.pubkey})`]);
  const byDescriptor = await fund(p2pkh, { solving_data: { descriptors: [descriptor] }, fee_rate: 2 });
  assert.equal(byDescriptor.fee, byPubkey.fee);
  const weight = (w: number) => ({
    input_weights: [{ txid: ext.txid, vout: ext.vout, weight: w }],
    fee_rate: 2,
  });
  assert.equal((await fund(p2pkh, weight(4 * 149))).fee, byPubkey.fee);
  assert.ok((await fund(p2pkh, weight(8 * 149))).fee > byPubkey.fee);
  const rawMs = await spending(extMs, 1);
  await assert.rejects(rpc('fundrawtransaction', [rawMs]), rpcFails(-4, /^Not solvable pre-selected input/));
  const fundedMs = await fund(rawMs, { solving_data: { scripts: [ms.redeemScript] } });
  assert.equal((await decode(fundedMs.hex)).vin[0].txid, extMs.txid);

  // Core's errors for solving_data and input_weights.
  const refuses = (options: object, code: number, message: RegExp) =>
    assert.rejects(rpc('fundrawtransaction', [raw, options]), rpcFails(code, message));
  await refuses(
    { solving_data: { pubkeys: ['not a pubkey'] } },
    -5,
    /^Pubkey "not a pubkey" must be a hex string$/,
  );
  await refuses(
    { solving_data: { pubkeys: ['01234567890a0b0c0d0e0f'] } },
    -5,
    /^Pubkey "01234567890a0b0c0d0e0f" must have a length of either 33 or 65 bytes$/,
  );
  await refuses({ solving_data: { scripts: ['not a script'] } }, -5, /^'not a script' is not hex$/);
  await refuses(
    { solving_data: { descriptors: ['not a descriptor'] } },
    -8,
    /^Unable to parse descriptor 'not a descriptor'/,
  );
  await refuses({ input_weights: [{ txid: ext.txid }] }, -8, /^Invalid parameter, missing vout key$/);
  await refuses(
    { input_weights: [{ txid: ext.txid, vout: -1 }] },
    -8,
    /^Invalid parameter, vout cannot be negative$/,
  );
  await refuses(
    { input_weights: [{ txid: ext.txid, vout: 0 }] },
    -8,
    /^Invalid parameter, missing weight key$/,
  );
  await refuses(weight(164), -8, /^Invalid parameter, weight cannot be less than 165/);
  await refuses(weight(400_001), -8, /^Invalid parameter, weight cannot be greater than/);

  // The other options. An unknown key is -3, so is a wrong type; locktime, psbt and add_to_wallet
  // are Core's keys too (send's), accepted.
  const plain = await rpc<string>('createrawtransaction', [[], { [other]: 1 }]);
  const refusesPlain = (options: object, code: number, message: RegExp) =>
    assert.rejects(rpc('fundrawtransaction', [plain, options]), rpcFails(code, message));
  await refusesPlain(
    { add_inputs: 1 },
    -3,
    /^JSON value of type number for field add_inputs is not of expected type bool$/,
  );
  await fund(plain, { locktime: 0, psbt: false, add_to_wallet: true });
  // replaceable: the inputs added signal BIP125 unless it is false.
  const sequences = async (options: object) =>
    (await decode((await fund(plain, options)).hex)).vin.map((i) => i.sequence);
  assert.deepEqual(await sequences({}), [0xfffffffd]);
  assert.deepEqual(await sequences({ replaceable: false }), [0xfffffffe]);
  // minconf/maxconf bound the coins added.
  await refusesPlain({ minconf: 1000 }, -4, /^Insufficient funds$/);
  await refusesPlain({ minconf: -1 }, -8, /^Negative minconf$/);
  await refusesPlain({ minconf: 2, maxconf: 1 }, -8, /^maxconf can't be lower than minconf: 1 < 2$/);
  // maxconf 0 leaves only the unconfirmed change of the payment above, which is not safe (an
  // outside key signed an input): it funds only with include_unsafe. minconf 1: confirmed coins.
  const confirmations = async (options: object) => {
    const out: number[] = [];
    for (const i of (await decode((await fund(plain, options)).hex)).vin)
      out.push((await rpc<{ confirmations: number }>('gettransaction', [i.txid])).confirmations);
    return out;
  };
  await refusesPlain({ maxconf: 0 }, -4, /^Insufficient funds$/);
  assert.deepEqual(await confirmations({ maxconf: 0, include_unsafe: true }), [0]);
  assert.ok((await confirmations({ minconf: 1 })).every((c) => c >= 1));
  // max_tx_weight, estimate_mode, conf_target, change_type.
  await refusesPlain(
    { max_tx_weight: 100 },
    -4,
    /^Maximum transaction weight must be between 260 and 400000$/,
  );
  await refusesPlain({ max_tx_weight: 300 }, -4, /^The inputs size exceeds the maximum weight/);
  await refusesPlain({ estimate_mode: 'bogus' }, -8, /^Invalid estimate_mode parameter/);
  await refusesPlain(
    { fee_rate: 2, estimate_mode: 'economical' },
    -8,
    /^Cannot specify both estimate_mode and fee_rate$/,
  );
  await refusesPlain(
    { feeRate: 0.0001, estimate_mode: 'unset' },
    -8,
    /^Cannot specify both estimate_mode and feeRate$/,
  );
  await refusesPlain({ conf_target: 0 }, -8, /^Invalid conf_target, must be between 1 and 1008$/);
  await fund(plain, { conf_target: 2, estimate_mode: 'CONSERVATIVE' });
  await fund(plain, { change_type: 'legacy' });
  await refusesPlain(
    { change_type: 'bech32' },
    -4,
    /^Transaction needs a change address, but we can't generate it/,
  );
  await refusesPlain({ change_type: 'nope' }, -5, /^Unknown change type 'nope'$/);
  await refusesPlain(
    { change_type: 'legacy', changeAddress: other },
    -8,
    /^Cannot specify both change address and address type options$/,
  );

  // An outside coin still in the pool is found there (Core's findCoins reads the pool too).
  const pooled = await paid(outside.address);
  const fp = await fund(await spending(pooled, 4), { solving_data: { pubkeys: [outside.pubkey] } });
  assert.deepEqual(
    [(await decode(fp.hex)).vin[0].txid, (await decode(fp.hex)).vin[0].vout],
    [pooled.txid, pooled.vout],
  );

  // lockUnspents locks every input of the result, the preset ones too (as Core).
  const coin = (await rpc<{ txid: string; vout: number; amount: number }[]>('listunspent')).find(
    (u) => u.amount > 1,
  )!;
  await fund(await spending(coin, 0.5), { lockUnspents: true });
  assert.ok(
    (await rpc<{ txid: string; vout: number }[]>('listlockunspent')).some(
      (l) => l.txid === coin.txid && l.vout === coin.vout,
    ),
  );
});

test("send: fundrawtransaction's funding with inputs, locktime, add_to_wallet and Core's option checks", async () => {
  const { node } = await startWalletNode(103);
  const rpc = node.rpc.bind(node);
  const other = encodeAddress('pubkeyhash', new Uint8Array(20).fill(4), getParams('regtest').prefixes);
  interface Sent {
    txid: string;
    hex?: string;
    complete: boolean;
  }
  const decode = (hex: string) =>
    rpc<{
      txid: string;
      locktime: number;
      vin: { txid: string; vout: number; sequence: number }[];
      vout: Decoded['vout'];
    }>('decoderawtransaction', [hex]);
  const send = (amount: number, options: object) =>
    rpc<Sent>('send', { outputs: [{ [other]: amount }], options });
  const coins = await rpc<{ txid: string; vout: number; amount: number }[]>('listunspent');
  const [c1, c2] = coins.filter((c) => c.amount === 50);
  const height = await rpc<number>('getblockcount');

  // fundrawtransaction's max_tx_weight steers coin selection: 60 coins take two 50-coin inputs,
  // which fit in 1,600 weight units (with change) but not in 1,000.
  const sixty = await rpc<string>('createrawtransaction', [[], { [other]: 60 }]);
  await assert.rejects(
    rpc('fundrawtransaction', [sixty, { max_tx_weight: 1000 }]),
    rpcFails(-4, /^The inputs size exceeds the maximum weight/),
  );
  const heavy = await rpc<Funded>('fundrawtransaction', [sixty, { max_tx_weight: 1600 }]);
  assert.equal((await decode(heavy.hex)).vin.length, 2);

  // add_to_wallet false: signed, not sent, hex returned; inputs given are the only ones (add_inputs
  // defaults to false then), locktime is the tip's (anti fee-sniping), change goes where asked.
  const mine = await rpc<string>('getnewaddress');
  const kept = await send(1, {
    inputs: [{ txid: c1.txid, vout: c1.vout }],
    add_to_wallet: false,
    change_address: mine,
    change_position: 0,
    lock_unspents: true,
  });
  assert.equal(kept.complete, true);
  const d = await decode(kept.hex!);
  assert.equal(d.txid, kept.txid);
  assert.deepEqual(
    d.vin.map((i) => [i.txid, i.vout, i.sequence]),
    [[c1.txid, c1.vout, 0xfffffffd]],
  );
  assert.equal(d.locktime, height);
  assert.equal(d.vout[0].scriptPubKey.address, mine);
  await assert.rejects(rpc('getmempoolentry', [kept.txid]), rpcFails(-5));
  assert.deepEqual(await rpc('listlockunspent'), [{ txid: c1.txid, vout: c1.vout }]);
  await rpc('lockunspent', [true]);
  assert.equal((await rpc<{ allowed: boolean }[]>('testmempoolaccept', [[kept.hex]]))[0].allowed, true);
  await assert.rejects(
    send(60, { inputs: [{ txid: c1.txid, vout: c1.vout }] }),
    rpcFails(-4, /^The preselected coins total amount does not cover the transaction target/),
  );
  const more = await send(60, {
    inputs: [{ txid: c1.txid, vout: c1.vout }],
    add_inputs: true,
    add_to_wallet: false,
  });
  assert.ok((await decode(more.hex!)).vin.length > 1);

  // Sent: in the pool, a given lock time and replaceable false on the inputs added.
  const sent = await send(1, {
    locktime: 7,
    replaceable: false,
    inputs: [{ txid: c2.txid, vout: c2.vout, sequence: 1 }],
  });
  const entry = await rpc<{ fees: { base: number } }>('getmempoolentry', [sent.txid]);
  assert.ok(entry.fees.base > 0);
  const s = await decode((await rpc<{ hex: string }>('gettransaction', [sent.txid])).hex);
  assert.equal(s.locktime, 7);
  assert.deepEqual(
    s.vin.map((i) => i.sequence),
    [1],
  );

  // Core's checks of send's options.
  const refuses = (params: object, code: number, message: RegExp) =>
    assert.rejects(rpc('send', { outputs: [{ [other]: 1 }], ...params }), rpcFails(code, message));
  await refuses({ options: { changeAddress: mine } }, -8, /^Use change_address instead of changeAddress$/);
  await refuses({ options: { feeRate: 0.0001 } }, -8, /^Use fee_rate \(sat\/vB\) instead of feeRate$/);
  await refuses(
    { conf_target: 2, options: { conf_target: 2 } },
    -8,
    /^Pass conf_target and estimate_mode either/,
  );
  await refuses({ fee_rate: 2, options: { fee_rate: 2 } }, -8, /^Pass the fee_rate either as an argument/);
  await refuses({ conf_target: 2 }, -8, /^Specify estimate_mode$/);
  await refuses({ options: { bogus: true } }, -3, /^Unexpected key bogus$/);
  await refuses({ options: { psbt: true } }, -8, /^psbt is not supported/);
  await refuses({ options: { input_weights: [] } }, -8, /^Input weights should be specified in inputs/);
  const byArgs = await rpc<Sent>('send', {
    outputs: [{ [other]: 0.1 }],
    conf_target: 2,
    estimate_mode: 'economical',
  });
  assert.equal(byArgs.complete, true);
});

test("amounts and fee rates as Core's AmountFromValue: a number or a numeric string, one rule for every wallet method", async () => {
  const { node } = await startWalletNode(102);
  const rpc = node.rpc.bind(node);
  const [a, b] = [5, 6].map((k) =>
    encodeAddress('pubkeyhash', new Uint8Array(20).fill(k), getParams('regtest').prefixes),
  );
  // The fee paid per vbyte of the recorded transaction.
  const paidRate = async (txid: string) => {
    const t = await rpc<{ hex: string; fee: number }>('gettransaction', [txid]);
    return -sats(t.fee) / (t.hex.length / 2);
  };

  const sent = await rpc<string>('sendtoaddress', { address: a, amount: '0.1', fee_rate: '5' });
  const rate = await paidRate(sent);
  assert.ok(rate >= 5 && rate < 5.1, `sendtoaddress paid ${rate} sat/vB`);
  const many = await rpc<string>('sendmany', {
    dummy: '',
    amounts: { [a]: '0.2', [b]: 0.3 },
    fee_rate: '3.5',
  });
  const manyRate = await paidRate(many);
  assert.ok(manyRate >= 3.5 && manyRate < 3.6, `sendmany paid ${manyRate} sat/vB`);
  const raw = await rpc<string>('createrawtransaction', [[], [{ [a]: '0.4' }]]);
  const funded = await rpc<Funded>('fundrawtransaction', [raw, { fee_rate: '2.25' }]);
  const size = (await rpc<{ hex: string }>('signrawtransactionwithwallet', [funded.hex])).hex.length / 2;
  assert.ok(
    sats(funded.fee) >= 2.25 * size && sats(funded.fee) < 2.3 * size,
    `fee ${funded.fee} for ${size} bytes`,
  );
  const viaSend = await rpc<{ txid: string }>('send', { outputs: [{ [b]: '0.05' }], fee_rate: '4' });
  assert.ok((await paidRate(viaSend.txid)) >= 4);

  // What Core refuses, with its -3 lines, the same for amounts and fee rates in every method.
  const refuses = async (method: string, params: unknown[] | Record<string, unknown>, re: RegExp) =>
    assert.rejects(rpc(method, params), rpcFails(-3, re));
  await refuses('sendtoaddress', { address: a, amount: '0.123456789' }, /^Invalid amount/);
  await refuses('sendtoaddress', { address: a, amount: '1e20' }, /^Invalid amount/);
  await refuses('sendtoaddress', { address: a, amount: '21000001' }, /^Amount out of range/);
  await refuses('sendtoaddress', { address: a, amount: 'abc' }, /^Invalid amount/);
  await refuses('sendtoaddress', { address: a, amount: 1, fee_rate: '0.0001' }, /^Invalid amount/);
  await refuses('sendtoaddress', { address: a, amount: 1, fee_rate: 1111111111111111 }, /^Invalid amount/);
  await refuses('sendtoaddress', { address: a, amount: 1, fee_rate: '' }, /^Invalid amount/);
  await refuses('sendtoaddress', { address: a, amount: 1, fee_rate: -1 }, /^Amount out of range/);
  await refuses(
    'sendtoaddress',
    { address: a, amount: 1, fee_rate: true },
    /^Amount is not a number or string/,
  );
  await refuses('sendmany', { dummy: '', amounts: { [a]: 1 }, fee_rate: '1.0001' }, /^Invalid amount/);
  await refuses('sendmany', { dummy: '', amounts: { [a]: '-1' } }, /^Amount out of range/);
  await refuses('fundrawtransaction', [raw, { fee_rate: '31.99999999' }], /^Invalid amount/);
  await refuses('fundrawtransaction', [raw, { feeRate: '0.000000001' }], /^Invalid amount/);
  await refuses(
    'send',
    { outputs: [{ [b]: '0.05' }], fee_rate: { x: 1 } },
    /^Amount is not a number or string/,
  );
  await refuses('bumpfee', [sent, { fee_rate: '-2' }], /^Amount out of range/);
  await refuses('settxfee', ['0.000000001'], /^Invalid amount/);
});

test("an explicit fee rate below the wallet's minimum is refused as Core, except by fundrawtransaction", async () => {
  const { node } = await startWalletNode(102);
  const rpc = node.rpc.bind(node);
  const a = encodeAddress('pubkeyhash', new Uint8Array(20).fill(8), getParams('regtest').prefixes);
  const low = /^Fee rate \(0\.999 sat\/vB\) is lower than the minimum fee rate setting \(1\.000 sat\/vB\)$/;
  const zero = /^Fee rate \(0\.000 sat\/vB\) is lower than the minimum fee rate setting \(1\.000 sat\/vB\)$/;
  // sendtoaddress and sendmany: Core's SendMoney answers -6.
  await assert.rejects(rpc('sendtoaddress', { address: a, amount: 1, fee_rate: 0.999 }), rpcFails(-6, low));
  await assert.rejects(rpc('sendtoaddress', { address: a, amount: 1, fee_rate: '0' }), rpcFails(-6, zero));
  await assert.rejects(
    rpc('sendmany', { dummy: '', amounts: { [a]: 1 }, fee_rate: 0.999 }),
    rpcFails(-6, low),
  );
  // send: Core's FundTransaction answers -4, as an argument or an option; sendall: -8.
  await assert.rejects(rpc('send', { outputs: [{ [a]: 1 }], fee_rate: 0.999 }), rpcFails(-4, low));
  await assert.rejects(rpc('send', { outputs: [{ [a]: 1 }], options: { fee_rate: 0 } }), rpcFails(-4, zero));
  await assert.rejects(rpc('sendall', { recipients: [a], fee_rate: 0.999 }), rpcFails(-8, low));
  assert.equal(
    (await rpc<unknown[]>('listtransactions')).filter((t) => (t as { category: string }).category === 'send')
      .length,
    0,
  );
  // fundrawtransaction overrides the minimum (Core's override_min_fee): a zero rate funds at zero fee.
  const raw = await rpc<string>('createrawtransaction', [[], [{ [a]: 1 }]]);
  assert.equal((await rpc<Funded>('fundrawtransaction', [raw, { fee_rate: 0 }])).fee, 0);
  // At the minimum it sends; bumpfee to zero is Core's -8 "Insufficient total fee".
  const txid = await rpc<string>('sendtoaddress', { address: a, amount: 1, fee_rate: 1 });
  // gettransaction's verbose adds Core's decoded; mempoolconflicts is empty with nothing competing.
  const t = await rpc<{ decoded: { txid: string }; mempoolconflicts: string[] }>('gettransaction', [
    txid,
    false,
    true,
  ]);
  assert.equal(t.decoded.txid, txid);
  assert.deepEqual(t.mempoolconflicts, []);
  assert.equal((await rpc<{ decoded?: unknown }>('gettransaction', [txid])).decoded, undefined);
  await assert.rejects(
    rpc('bumpfee', [txid, { fee_rate: 0 }]),
    rpcFails(-8, /^Insufficient total fee 0\.00/),
  );
});

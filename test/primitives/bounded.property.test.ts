import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { BoundedMap, BoundedSet } from '../../src/primitives/bounded.js';

test('BoundedSet: drops the oldest key past the cap; re-adding keeps the order', () => {
  const s = new BoundedSet<string>(2);
  s.add('a');
  s.add('b');
  s.add('a');
  s.add('c');
  assert.deepEqual([...s.values()], ['b', 'c']);
  assert.equal(s.has('a'), false);
  assert.equal(s.delete('b'), true);
  s.add('d');
  assert.deepEqual([...s.values()], ['c', 'd']);
  const none = new BoundedSet<number>(0);
  none.add(1);
  assert.equal(none.size, 0);
  assert.throws(() => new BoundedSet(-1), /bound must be an integer >= 0, got -1/);
  assert.throws(() => new BoundedMap(1.5), /bound must be an integer >= 0, got 1.5/);
});

test('BoundedMap: set in place keeps the position; a new key past the cap drops the oldest', () => {
  const m = new BoundedMap<string, number>(2);
  m.set('a', 1);
  m.set('b', 2);
  m.set('a', 3);
  m.set('c', 4);
  assert.deepEqual(
    [...m],
    [
      ['b', 2],
      ['c', 4],
    ],
  );
  assert.equal(m.get('a'), undefined);
});

type Op = { kind: 'add' | 'delete'; key: number };
const ops = fc.array(
  fc.record({
    kind: fc.constantFrom<'add' | 'delete'>('add', 'add', 'delete'),
    key: fc.integer({ min: 0, max: 20 }),
  }),
  { maxLength: 200 },
);

/** The reference: an array in insertion order, oldest at index 0. */
function model(cap: number, list: Op[]): number[] {
  const arr: number[] = [];
  for (const op of list) {
    const i = arr.indexOf(op.key);
    if (op.kind === 'delete') {
      if (i >= 0) arr.splice(i, 1);
    } else if (i < 0 && cap > 0) {
      if (arr.length >= cap) arr.shift();
      arr.push(op.key);
    }
  }
  return arr;
}

test('BoundedSet and BoundedMap match an array model under any add/delete sequence', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 8 }), ops, (cap, list) => {
      const s = new BoundedSet<number>(cap);
      const m = new BoundedMap<number, number>(cap);
      for (const op of list) {
        if (op.kind === 'add') {
          s.add(op.key);
          if (!m.has(op.key)) m.set(op.key, op.key * 2);
        } else {
          s.delete(op.key);
          m.delete(op.key);
        }
        assert.ok(s.size <= cap && m.size <= cap);
      }
      const want = model(cap, list);
      assert.deepEqual([...s.values()], want);
      assert.deepEqual([...m.keys()], want);
      for (const k of want) assert.equal(m.get(k), k * 2);
    }),
  );
});

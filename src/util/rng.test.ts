import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng, splitmix64, deriveSeed } from './rng';

// Expected values below were computed with a separate ~20-line Python implementation written
// straight from the reference C sources (xoshiro128starstar.c, splitmix64.c), not from this file.
// The first four xoshiro128** outputs from state {1,2,3,4} can also be checked by hand:
//   out0 = rotl(2*5, 7)*9 = 1280*9 = 11520; then s = {7, 0, 1026, 12288} so out1 = rotl(0,7)*9 = 0;
//   then s1 = 1026^7 = 1029, out2 = rotl(1029*5, 7)*9 = 658560*9 = 5927040.

test('xoshiro128** matches the reference sequence from state {1,2,3,4}', () => {
  const r = Rng.fromState({ algorithm: 'xoshiro128**', s: [1, 2, 3, 4] });
  const got = Array.from({ length: 8 }, () => r.nextU32());
  assert.deepEqual(got, [11520, 0, 5927040, 70819200, 2031721883, 1637235492, 1287239034, 3734860849]);
});

test('splitmix64 matches the reference first output for seed 0', () => {
  const [, out] = splitmix64(0n);
  assert.equal(out, 0xe220a8397b1dcdafn);
});

test('seeding expands the seed with SplitMix64 (low word first)', () => {
  const r = new Rng(42);
  assert.deepEqual(r.getState().s, [803958421, 3184996902, 2993090819, 686809907]);
  assert.deepEqual([r.nextU32(), r.nextU32(), r.nextU32(), r.nextU32()], [1776835114, 4165204688, 17111135, 2317295270]);
  assert.equal(new Rng(42).next(), 0.4137016681565887);
});

test('permutation follows Durstenfeld with rejection-sampled int()', () => {
  assert.deepEqual(Array.from(new Rng(7).permutation(10)), [8, 3, 6, 7, 1, 0, 5, 2, 4, 9]);
});

test('same seed, same stream; different seeds differ', () => {
  const a = new Rng(123), b = new Rng(123), c = new Rng(124);
  const sa = Array.from({ length: 50 }, () => a.nextU32());
  assert.deepEqual(sa, Array.from({ length: 50 }, () => b.nextU32()));
  assert.notDeepEqual(sa, Array.from({ length: 50 }, () => c.nextU32()));
  assert.deepEqual(new Rng(5n).getState(), new Rng(5).getState());
});

test('state round-trips through JSON and resumes exactly', () => {
  const r = new Rng(99);
  for (let i = 0; i < 17; i++) r.normal();
  const saved = JSON.parse(JSON.stringify(r.getState()));
  const expected = [r.nextU32(), r.next(), r.int(1000), r.normal(), Array.from(r.permutation(20))];
  const resumed = new Rng(0);
  resumed.setState(saved);
  const got = [resumed.nextU32(), resumed.next(), resumed.int(1000), resumed.normal(), Array.from(resumed.permutation(20))];
  assert.deepEqual(got, expected);
  const c = r.clone();
  assert.equal(c.nextU32(), r.nextU32());
});

test('setState rejects malformed states', () => {
  const r = new Rng(1);
  assert.throws(() => r.setState({ algorithm: 'xoshiro128**', s: [0, 0, 0, 0] }), /all zero/);
  assert.throws(() => r.setState({ algorithm: 'xoshiro128**', s: [1, 2, 3, 2 ** 32] }), /uint32/);
  assert.throws(() => r.setState({ algorithm: 'pcg', s: [1, 2, 3, 4] } as any), /expected/);
});

test('ranges: next in [0,1), int in [0,n), permutation is a permutation', () => {
  const r = new Rng(2024);
  const counts = new Array(7).fill(0);
  for (let i = 0; i < 7000; i++) {
    const f = r.next();
    assert.ok(f >= 0 && f < 1);
    const k = r.int(7);
    assert.ok(Number.isInteger(k) && k >= 0 && k < 7);
    counts[k]++;
  }
  for (const c of counts) assert.ok(c > 850 && c < 1150, `int(7) bucket count ${c} far from 1000`);
  assert.equal(r.int(1), 0);
  assert.throws(() => r.int(0), /n must be/);
  assert.throws(() => r.int(2.5), /n must be/);
  const p = r.permutation(1000);
  assert.deepEqual(Array.from(p).sort((x, y) => x - y), Array.from({ length: 1000 }, (_, i) => i));
  assert.equal(r.permutation(0).length, 0);
});

test('normal() has roughly zero mean and unit variance', () => {
  const r = new Rng(3);
  let s = 0, s2 = 0;
  const n = 20000;
  for (let i = 0; i < n; i++) {
    const z = r.normal();
    assert.ok(Number.isFinite(z));
    s += z;
    s2 += z * z;
  }
  const mean = s / n;
  assert.ok(Math.abs(mean) < 0.05, `mean ${mean}`);
  assert.ok(Math.abs(s2 / n - mean * mean - 1) < 0.05);
  assert.ok(Math.abs(new Rng(3).normal(10, 0.001) - 10) < 0.01);
});

test('shuffle works on plain arrays and typed arrays identically for the same state', () => {
  const a = new Rng(8).shuffle(['a', 'b', 'c', 'd', 'e']);
  const b = new Rng(8).shuffle(new Int32Array([0, 1, 2, 3, 4]));
  assert.deepEqual(a, Array.from(b, (i) => 'abcde'[i]));
});

test('derive(): keyed streams are deterministic and order-sensitive', () => {
  assert.equal(deriveSeed(1, 2, 3), deriveSeed(1, 2, 3));
  assert.notEqual(deriveSeed(1, 2, 3), deriveSeed(1, 3, 2));
  assert.notEqual(deriveSeed(1, 0), deriveSeed(1));
  assert.deepEqual(Rng.derive(10, 4).getState(), Rng.derive(10, 4).getState());
  assert.notDeepEqual(Rng.derive(10, 4).getState(), Rng.derive(10, 5).getState());
  assert.throws(() => new Rng(1.5), /safe integer/);
});

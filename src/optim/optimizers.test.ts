// SGD / AdamW / Adam against values recorded from PyTorch 1.13 (test/fixtures/optim/make_fixtures.py).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Tensor, tensor, liveTensors, tidy } from '../tensor';
import type { DType } from '../tensor';
import { SGD, AdamW, Adam, Optimizer, NamedParam } from './index';
import { native } from '../tensor/native';

const FIXTURES = path.join(__dirname, '..', '..', '..', 'test', 'fixtures', 'optim');

interface Case {
  name: string; optimizer: 'SGD' | 'AdamW' | 'Adam'; dtype: DType;
  kwargs: Record<string, any>; groups: ({ params: string[] } & Record<string, any>)[]; lrs: number[] | null;
  shapes: Record<string, number[]>; init: Record<string, number[]>;
  grads: Record<string, number[] | null>[]; trajectory: Record<string, number[]>[];
  final_state: Record<string, Record<string, number | number[]>>;
}
const fixture: { torch: string; steps: number; cases: Case[] } = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'optimizers.json'), 'utf8'));

const KEYS: Record<string, string> = { lr: 'lr', momentum: 'momentum', dampening: 'dampening', weight_decay: 'weightDecay', nesterov: 'nesterov', betas: 'betas', eps: 'eps', amsgrad: 'amsgrad' };
function hyper(torchKw: Record<string, any>): Record<string, any> {
  const o: Record<string, any> = {};
  for (const [k, v] of Object.entries(torchKw)) {
    if (k === 'params') continue;
    if (!(k in KEYS)) throw new Error(`fixture key ${k}`);
    o[KEYS[k]] = v;
  }
  return o;
}

function makeParams(c: Case): Map<string, Tensor> {
  return new Map(Object.entries(c.shapes).map(([n, s]) => {
    const t = tidy(() => tensor(c.init[n], { dtype: c.dtype }).reshape(s).clone());
    t.requiresGrad = true;
    return [n, t];
  }));
}

/** Builds the case's optimizer; `order` permutes the parameter order inside groups and the group order. */
function makeOptimizer(c: Case, params: Map<string, Tensor>, reverse = false): Optimizer<any> {
  let groups = c.groups.map((g) => {
    let names = [...g.params];
    if (reverse) names = names.reverse();
    return { ...hyper(g), params: names.map((n): NamedParam => ({ name: n, tensor: params.get(n)! })) };
  });
  if (reverse) groups = groups.reverse();
  const opts = hyper(c.kwargs);
  if (c.optimizer === 'SGD') return new SGD(groups, opts as any);
  if (c.optimizer === 'AdamW') return new AdamW(groups, opts);
  return new Adam(groups, opts);
}

function setGrads(c: Case, params: Map<string, Tensor>, k: number): void {
  for (const [n, p] of params) {
    const g = c.grads[k][n];
    if (g === null) { p.grad = null; continue; }
    tidy(() => { p.grad = tensor(g, { dtype: c.dtype }).reshape(c.shapes[n]).clone(); });
  }
}

function runSteps(c: Case, opt: Optimizer<any>, params: Map<string, Tensor>, from: number, to: number, check = true): void {
  for (let k = from; k < to; k++) {
    setGrads(c, params, k);
    if (c.lrs) for (const g of opt.paramGroups) g.lr = c.lrs[k];
    opt.step();
    if (check) for (const [n, p] of params) assertNear(p.toFloat64Array(), c.trajectory[k][n], c.dtype, `${c.name}/${c.dtype} step ${k + 1} ${n}`);
  }
}

const worst = { float64: 0, float32: 0 } as Record<string, number>;
function assertNear(actual: ArrayLike<number>, expected: number[], dtype: DType, msg: string): void {
  assert.equal(actual.length, expected.length, msg);
  // float64: far inside the 1e-6 the issue asks for; float32: 1e-6 relative (plus a little absolute slack)
  const [atol, rtol] = dtype === 'float64' ? [1e-12, 1e-12] : [1e-7, 1e-6];
  for (let i = 0; i < expected.length; i++) {
    const d = Math.abs(actual[i] - expected[i]);
    worst[dtype] = Math.max(worst[dtype], d / Math.max(1e-30, Math.abs(expected[i])));
    if (!(d <= atol + rtol * Math.abs(expected[i]))) assert.fail(`${msg}: element ${i} is ${actual[i]}, torch ${expected[i]} (diff ${d})`);
  }
}

for (const c of fixture.cases) {
  test(`${c.optimizer} ${c.name} ${c.dtype}: 10 steps match torch.optim (${fixture.torch})`, () => {
    const params = makeParams(c);
    const opt = makeOptimizer(c, params);
    runSteps(c, opt, params, 0, fixture.steps);
    // final state: same slots (torch's names) and values, per-parameter step counts
    for (const [n, st] of Object.entries(c.final_state)) {
      const mine = opt.stateOf(n);
      const slots = Object.keys(st).filter((k) => k !== 'step').sort();
      if (slots.length === 0 && !('step' in st)) { assert.ok(!mine || mine.slots.size === 0, `${n}: unexpected state`); continue; }
      assert.ok(mine, `${c.name}: no state for ${n}`);
      assert.deepEqual([...mine.slots.keys()].sort(), slots, `${c.name}: slots of ${n}`);
      for (const s of slots) assertNear(mine.slots.get(s)!.toFloat64Array(), st[s] as number[], c.dtype, `${c.name} final ${n}.${s}`);
      if ('step' in st) assert.equal(mine.step, st.step, `${c.name}: step count of ${n}`);
    }
    assert.equal(opt.stepCount, fixture.steps);
    opt.dispose();
    for (const p of params.values()) p.dispose();
  });
}

test('state dict round trip: 5 steps, save, new optimizer with params in a different order, load, 5 steps == 10 steps', () => {
  for (const c of fixture.cases) {
    const params = makeParams(c);
    const opt = makeOptimizer(c, params);
    runSteps(c, opt, params, 0, 5);
    const sd = opt.stateDict({ clone: true });
    const snapshot = new Map([...params].map(([n, p]) => [n, p.clone()]));
    opt.dispose();
    for (const p of params.values()) p.dispose();

    // a fresh model restored from the snapshot, a fresh optimizer with groups and params reversed
    const params2 = new Map([...snapshot].reverse().map(([n, t]) => { const p = t.clone(); p.requiresGrad = true; return [n, p]; }));
    const opt2 = makeOptimizer(c, params2, true);
    const report = opt2.loadStateDict(sd);
    assert.deepEqual(report, { missing: [], unexpected: [], mismatched: [], ignoredSlots: [] });
    assert.equal(opt2.stepCount, 5);
    runSteps(c, opt2, params2, 5, 10); // checks every step against torch's uninterrupted trajectory
    // and bit-identical to an uninterrupted civet run
    const ref = makeParams(c);
    const o = makeOptimizer(c, ref);
    runSteps(c, o, ref, 0, 10, false);
    for (const [n, p] of params2) assert.deepEqual(Array.from(p.toFloat64Array()), Array.from(ref.get(n)!.toFloat64Array()), `${c.name}: ${n} after resume`);
    const a = opt2.stateDict(), b = o.stateDict();
    assert.deepEqual(a.steps, b.steps);
    for (const [n, slots] of b.state) for (const [s, t] of slots) assert.deepEqual(Array.from(a.state.get(n)!.get(s)!.toFloat64Array()), Array.from(t.toFloat64Array()), `${c.name}: ${n}.${s}`);
    o.dispose();
    for (const t of ref.values()) t.dispose();
    opt2.dispose();
    for (const t of [...params2.values(), ...snapshot.values()]) t.dispose();
    for (const slots of sd.state.values()) for (const t of slots.values()) t.dispose();
  }
});

test('no tensor leaks: liveTensors() is unchanged across steps after warm-up', () => {
  for (const c of fixture.cases) {
    const params = makeParams(c);
    const opt = makeOptimizer(c, params);
    runSteps(c, opt, params, 0, 2, false);
    const before = liveTensors();
    for (let k = 2; k < 10; k++) {
      setGrads(c, params, k);
      const b = liveTensors();
      opt.step();
      assert.equal(liveTensors(), b, `${c.name}: step ${k + 1} leaked`);
      opt.zeroGrad();
    }
    assert.equal(liveTensors(), before, `${c.name}: leaked over 8 steps`);
    opt.dispose();
    for (const p of params.values()) p.dispose();
  }
});

test('zeroGrad sets gradients to null; parameters without a gradient are skipped', () => {
  const c = fixture.cases.find((x) => x.name === 'adamw' && x.dtype === 'float64')!;
  const params = makeParams(c);
  const opt = makeOptimizer(c, params);
  setGrads(c, params, 0);
  assert.ok(params.get('w')!.grad !== null);
  opt.zeroGrad();
  for (const p of params.values()) assert.equal(p.grad, null);
  const before = params.get('w')!.toFloat64Array();
  opt.step();
  assert.deepEqual(params.get('w')!.toFloat64Array(), before);
  assert.equal(opt.stateOf('w'), undefined);
  opt.dispose();
  for (const p of params.values()) p.dispose();
});

test.after(() => {
  // largest relative deviation from torch, for the record
  console.log(`# max relative deviation from torch: float64 ${worst.float64.toExponential(2)}, float32 ${worst.float32.toExponential(2)}`);
});

// The foreach path (one at::_foreach_* call per list, tensor/foreach.ts) against the per-parameter
// path on every fixture case: bit for bit, every step, parameters and state (on CPU libtorch's
// foreach kernels run the single-tensor kernels per tensor, so anything but equality is a bug in
// the order or form of civet's arithmetic). The goldens above run the default, foreach, path.
for (const c of fixture.cases) {
  test(`${c.optimizer} ${c.name} ${c.dtype}: the foreach path equals the per-parameter path exactly`, () => {
    const pa = makeParams(c), pb = makeParams(c);
    const a = makeOptimizer(c, pa), b = makeOptimizer(c, pb);
    a.foreach = true; b.foreach = false;
    // count the multi-tensor calls: the foreach optimizer makes them (amsgrad: per parameter, by design), the other none
    const orig = native.foreachAdd_;
    let calls = 0, callsB = 0;
    (native as any).foreachAdd_ = (...args: any[]) => { calls++; return (orig as any)(...args); };
    for (let k = 0; k < fixture.steps; k++) {
      setGrads(c, pa, k); setGrads(c, pb, k);
      if (c.lrs) for (const o of [a, b]) for (const g of o.paramGroups) g.lr = c.lrs[k];
      try {
        a.step();
        const before = calls; b.step(); callsB += calls - before;
      } finally { if (k === fixture.steps - 1) (native as any).foreachAdd_ = orig; }
      for (const [n, p] of pa) assert.deepEqual(Array.from(p.toFloat64Array()), Array.from(pb.get(n)!.toFloat64Array()), `${c.name} step ${k + 1} ${n}`);
    }
    (native as any).foreachAdd_ = orig;
    assert.equal(callsB, 0, 'the per-parameter path makes no foreach call');
    if (c.kwargs.amsgrad || c.groups.some((g) => g.amsgrad)) assert.equal(calls, 0); else assert.ok(calls >= fixture.steps, `the foreach path ran (${calls} calls)`);
    for (const n of pa.keys()) {
      const sa = a.stateOf(n), sb = b.stateOf(n);
      assert.equal(sa?.step, sb?.step, `${n} step count`);
      assert.deepEqual([...(sa?.slots.keys() ?? [])].sort(), [...(sb?.slots.keys() ?? [])].sort());
      for (const [s, t] of sa?.slots ?? []) assert.deepEqual(Array.from(t.toFloat64Array()), Array.from(sb!.slots.get(s)!.toFloat64Array()), `${n}.${s}`);
    }
    a.dispose(); b.dispose();
    for (const p of [...pa.values(), ...pb.values()]) p.dispose();
  });
}

test('foreach AdamW: a parameter added later (another step count) gets its own bias correction, as per parameter', () => {
  const mk = () => { const t = tidy(() => tensor([1, -2, 3]).clone()); t.requiresGrad = true; return t; };
  const run = (fe: boolean) => {
    const p = mk(), q = mk();
    const opt = new AdamW([{ params: [{ name: 'p', tensor: p }] }], { lr: 0.1, foreach: fe });
    const g = () => tidy(() => tensor([0.5, -1, 2]).clone());
    p.grad = g(); opt.step();
    opt.addParamGroup({ params: [{ name: 'q', tensor: q }] });
    // same group semantics: move q into group 0 so one list holds parameters at steps 1 and 0
    opt.paramGroups[0].params.push(opt.paramGroups[1].params.pop()!); opt.paramGroups.pop();
    for (let k = 0; k < 3; k++) { p.grad = g(); q.grad = g(); opt.step(); }
    const out = [Array.from(p.toFloat64Array()), Array.from(q.toFloat64Array()), opt.stateOf('p')!.step, opt.stateOf('q')!.step];
    opt.dispose(); p.dispose(); q.dispose();
    return out;
  };
  const a = run(true), b = run(false);
  assert.deepEqual(a, b);
  assert.deepEqual(a.slice(2), [4, 3]);
  assert.notDeepEqual(a[0], a[1], 'p and q had different histories');
});

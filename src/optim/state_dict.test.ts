// Optimizer state dicts: matched by name, errors that name what is wrong, flat form for checkpoints.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor, tensor, tidy, zeros, liveTensors } from '../tensor';
import { AdamW, SGD, NamedParam, OptimizerStateError, flattenOptimizerState, unflattenOptimizerState, OptimizerStateDict } from './index';

function param(name: string, values: number[], shape = [values.length]): NamedParam {
  const t = tidy(() => tensor(values, { dtype: 'float64' }).reshape(shape).clone());
  t.requiresGrad = true;
  return { name, tensor: t };
}
function grads(ps: NamedParam[], k: number): void {
  for (const p of ps) tidy(() => { p.tensor.grad = p.tensor.mul(0.1 * k).add(Math.sin(k)).detach(); });
}
const arr = (t: Tensor) => Array.from(t.toFloat64Array());
const freeSd = (sd: OptimizerStateDict) => { for (const s of sd.state.values()) for (const t of s.values()) t.dispose(); };

test('adding a parameter (a token, a projector) after saving: the new one starts fresh, the rest resume', () => {
  const ps = [param('w', [1, 2, 3, 4], [2, 2]), param('b', [0.5, -0.5])];
  const opt = new AdamW(ps, { lr: 0.01, weightDecay: 0.05 });
  for (let k = 1; k <= 3; k++) { grads(ps, k); opt.step(); }
  const sd = opt.stateDict({ clone: true });

  const tok = param('cls_token', [0, 0, 0], [1, 1, 3]);
  const proj = param('proj.weight', [1, 1, 1, 1], [2, 2]);
  const opt2 = new AdamW([{ params: [tok, ...ps] }, { name: 'projector', params: [proj], lr: 0.1 }], { lr: 0.01, weightDecay: 0.05 });
  const report = opt2.loadStateDict(sd);
  assert.deepEqual(report.missing, ['cls_token', 'proj.weight']);
  assert.deepEqual(report.unexpected, []);
  assert.equal(opt2.stateOf('w')!.step, 3);
  assert.equal(opt2.stateOf('cls_token'), undefined);
  assert.deepEqual(arr(opt2.stateOf('w')!.slots.get('exp_avg')!), arr(sd.state.get('w')!.get('exp_avg')!));
  // the loaded state is a copy, not the saved tensors
  assert.notEqual(opt2.stateOf('w')!.slots.get('exp_avg'), sd.state.get('w')!.get('exp_avg'));
  // the new group keeps its own lr (no saved group held its parameters)
  assert.equal(opt2.paramGroups[1].lr, 0.1);
  opt.dispose(); opt2.dispose(); freeSd(sd);
  for (const p of [...ps, tok, proj]) p.tensor.dispose();
});

test('unknown names and shape mismatches are errors that list them; strict: false skips them', () => {
  const ps = [param('w', [1, 2, 3, 4], [2, 2]), param('b', [0.5, -0.5]), param('old_head', [1, 2])];
  const opt = new SGD(ps, { lr: 0.1, momentum: 0.9 });
  grads(ps, 1); opt.step();
  const sd = opt.stateDict();

  const w2 = param('w', [1, 2, 3, 4, 5, 6], [2, 3]);
  const b2 = param('b', [0, 0]);
  const opt2 = new SGD([w2, b2], { lr: 0.1, momentum: 0.9 });
  assert.throws(() => opt2.loadStateDict(sd), (e: unknown) => {
    assert.ok(e instanceof OptimizerStateError);
    assert.match(e.message, /do(es)? not have: old_head/);
    assert.match(e.message, /w\.momentum_buffer \(parameter \[2,3\], saved \[2,2\]\)/);
    assert.deepEqual(e.report.unexpected, ['old_head']);
    return true;
  });
  assert.equal(opt2.stateOf('b'), undefined, 'a failed load changes nothing');
  const report = opt2.loadStateDict(sd, { strict: false });
  assert.deepEqual(report.unexpected, ['old_head']);
  assert.deepEqual(report.mismatched.map((m) => m.name), ['w']);
  assert.equal(opt2.stateOf('w'), undefined);
  assert.deepEqual(arr(opt2.stateOf('b')!.slots.get('momentum_buffer')!), arr(sd.state.get('b')!.get('momentum_buffer')!));
  assert.throws(() => new AdamW([b2]).loadStateDict(sd), /cannot load SGD optimizer state into AdamW/);
  opt.dispose(); opt2.dispose();
  for (const p of [...ps, w2, b2]) p.tensor.dispose();
});

test('hyperparameters are restored by name; flat form round-trips', () => {
  const ps = [param('w', [1, 2]), param('b', [3])];
  const opt = new AdamW([{ name: 'decay', params: [ps[0]] }, { name: 'no_decay', params: [ps[1]], weightDecay: 0 }], { lr: 1e-3, weightDecay: 0.05, betas: [0.8, 0.9], amsgrad: true });
  opt.paramGroups[0].lr = 0.0123;
  for (let k = 1; k <= 2; k++) { grads(ps, k); opt.step(); }
  const { tensors, meta } = flattenOptimizerState(opt.stateDict());
  assert.deepEqual([...tensors.keys()].sort(), ['b.exp_avg', 'b.exp_avg_sq', 'b.max_exp_avg_sq', 'w.exp_avg', 'w.exp_avg_sq', 'w.max_exp_avg_sq']);
  const json = JSON.parse(JSON.stringify(meta));
  assert.deepEqual(json.groups[0], { lr: 0.0123, betas: [0.8, 0.9], eps: 1e-8, weightDecay: 0.05, amsgrad: true, maximize: false, name: 'decay', params: ['w'] });
  // new optimizer: one group, other defaults; groups are matched through their parameters' names
  const opt2 = new AdamW([ps[1], ps[0]], { lr: 1, weightDecay: 0 });
  opt2.loadStateDict(unflattenOptimizerState(tensors, json));
  assert.equal(opt2.paramGroups[0].lr, 0.001); // from the group that held 'b' (its first parameter)
  assert.deepEqual(opt2.paramGroups[0].betas, [0.8, 0.9]);
  assert.equal(opt2.stepCount, 2);
  const opt3 = new AdamW([ps[1], ps[0]], { lr: 1, weightDecay: 0 });
  opt3.loadStateDict(unflattenOptimizerState(tensors, json), { restoreHyperparams: false });
  assert.equal(opt3.paramGroups[0].lr, 1);
  // amsgrad off: the saved max_exp_avg_sq is ignored (reported), not an error
  const opt4 = new AdamW(ps, { amsgrad: false });
  assert.deepEqual(opt4.loadStateDict(opt.stateDict(), { restoreHyperparams: false }).ignoredSlots, ['w.max_exp_avg_sq', 'b.max_exp_avg_sq']);
  for (const o of [opt, opt2, opt3, opt4]) o.dispose();
  for (const p of ps) p.tensor.dispose();
});

test('constructor checks: names, duplicates, hyperparameters', () => {
  const a = param('a', [1]);
  const z = zeros([2]);
  assert.throws(() => new SGD([z] as any, { lr: 0.1 }), /bare Tensor/);
  assert.throws(() => new SGD([a, { name: 'a', tensor: z }], { lr: 0.1 }), /more than one param group/);
  assert.throws(() => new SGD([a, { name: 'a2', tensor: a.tensor }], { lr: 0.1 }), /already in the optimizer/);
  assert.throws(() => new SGD([a], { lr: -1 }), /invalid learning rate/);
  assert.throws(() => new SGD([a], { lr: 0.1, nesterov: true }), /Nesterov momentum requires a momentum/);
  assert.throws(() => new AdamW([a], { betas: [1, 0.9] }), /invalid beta/);
  assert.throws(() => new AdamW([{ params: [a], momentum: 0.9 } as any]), /unknown hyperparameter 'momentum'/);
  assert.throws(() => new AdamW([]), /no parameters/);
  const before = liveTensors();
  const opt = new SGD(new Map([['a', a.tensor]]), { lr: 0.1 });
  assert.equal(opt.namedParams()[0].name, 'a');
  assert.equal(liveTensors(), before);
  a.tensor.dispose(); z.dispose();
});

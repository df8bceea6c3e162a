// Schedules against timm's CosineLRScheduler formula and torch's StepLR / MultiStepLR values
// (test/fixtures/optim/schedules.json), plus hand-computed points.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CosineSchedule, StepSchedule, MultiStepSchedule, ConstantSchedule, createSchedule } from './schedule';

const FIXTURES = path.join(__dirname, '..', '..', '..', 'test', 'fixtures', 'optim');
const fixture = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'schedules.json'), 'utf8'));

const near = (a: number, e: number, msg: string, rtol = 1e-12) =>
  assert.ok(Math.abs(a - e) <= rtol * Math.abs(e) + 1e-18, `${msg}: ${a} vs ${e}`);

for (const c of fixture.cosine) {
  test(`CosineSchedule ${c.name} matches timm CosineLRScheduler._get_lr`, () => {
    const o = c.options;
    const s = new CosineSchedule(c.base, {
      tInitial: o.t_initial, lrMin: o.lr_min, warmupT: o.warmup_t, warmupLrInit: o.warmup_lr_init, warmupPrefix: o.warmup_prefix,
      cycleMul: o.cycle_mul, cycleDecay: o.cycle_decay, cycleLimit: o.cycle_limit, kDecay: o.k_decay,
    });
    (c.values as number[]).forEach((v, t) => near(s.lrAt(t), v, `${c.name} t=${t}`));
  });
}

for (const c of fixture.torch_schedulers) {
  test(`${c.kind} schedule ${c.name} matches torch ${c.kind === 'step' ? 'StepLR' : 'MultiStepLR'}`, () => {
    const s = c.kind === 'step'
      ? new StepSchedule(c.base, { stepSize: c.step_size, gamma: c.gamma })
      : new MultiStepSchedule(c.base, { milestones: c.milestones, gamma: c.gamma });
    // torch multiplies step by step; the closed form agrees to rounding
    (c.values as number[]).forEach((v, t) => near(s.lrAt(t), v, `${c.name} t=${t}`, 1e-14));
  });
}

test('cosine with warm-up: hand-computed points', () => {
  const s = new CosineSchedule(1e-3, { tInitial: 100, warmupT: 10, warmupLrInit: 1e-5, lrMin: 1e-6 });
  near(s.lrAt(0), 1e-5, 't=0 is warmupLrInit');
  near(s.lrAt(5), 1e-5 + 5 * (1e-3 - 1e-5) / 10, 'linear warm-up');
  near(s.lrAt(9), 1e-5 + 9 * (1e-3 - 1e-5) / 10, 'last warm-up value, below base');
  near(s.lrAt(10), 1e-6 + 0.5 * (1e-3 - 1e-6) * (1 + Math.cos(Math.PI * 10 / 100)), 'no prefix: cosine at t=10');
  near(s.lrAt(50), (1e-3 + 1e-6) / 2, 'halfway');
  assert.equal(s.lrAt(100), 1e-6);
  assert.equal(s.lrAt(1000), 1e-6);
  const p = new CosineSchedule(1e-3, { tInitial: 100, warmupT: 10, warmupPrefix: true });
  near(p.lrAt(10), 1e-3, 'prefix: base right after warm-up');
  near(p.lrAt(60), 1e-3 / 2, 'prefix: halfway at warmupT + tInitial/2');
  assert.equal(new CosineSchedule(0.1, { tInitial: 10 }).lrAt(0), 0.1);
  assert.equal(new CosineSchedule(0.1, { tInitial: 10, cycleLimit: 2 }).cycleLength(), 20);
});

test('step / multistep / constant with warm-up (timm: warm-up prefix by default)', () => {
  const s = new StepSchedule(0.1, { stepSize: 3, gamma: 0.5, warmupT: 2, warmupLrInit: 0.01 });
  assert.deepEqual(s.values(9).map((x) => +x.toPrecision(12)), [0.01, 0.055, 0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025]);
  const m = new MultiStepSchedule(1, { milestones: [4, 2], gamma: 0.1 });
  assert.deepEqual(m.values(6).map((x) => +x.toPrecision(12)), [1, 1, 0.1, 0.1, 0.01, 0.01]);
  const c = new ConstantSchedule(0.3, { warmupT: 3 });
  assert.deepEqual(c.values(5).map((x) => +x.toPrecision(12)), [0, 0.1, 0.2, 0.3, 0.3]);
});

test('applyTo: sets every group, honours lrScale, per epoch or per iteration', () => {
  const opt = { paramGroups: [{ lr: 0 }, { lr: 0, lrScale: 0.5 }] };
  const s = new StepSchedule(1, { stepSize: 10, gamma: 0.1, per: 'epoch' });
  assert.equal(s.applyTo(opt, { epoch: 12, iteration: 5 }), 0.1);
  near(opt.paramGroups[0].lr, 0.1, 'group 0');
  near(opt.paramGroups[1].lr, 0.05, 'group 1 scaled');
  const it = new StepSchedule(1, { stepSize: 10, gamma: 0.1 });
  assert.equal(it.per, 'iteration');
  assert.equal(it.applyTo(opt, { epoch: 12, iteration: 5 }), 1);
  assert.equal(it.applyTo(opt, 25), 0.010000000000000002);
});

test('createSchedule converts epochs to iterations when stepped per iteration', () => {
  const perIter = createSchedule({ name: 'cosine', lr: 1e-3, epochs: 10, warmupEpochs: 1, warmupLr: 1e-6, lrMin: 1e-5, per: 'iteration', itersPerEpoch: 100 }) as CosineSchedule;
  assert.equal(perIter.tInitial, 1000);
  assert.equal(perIter.warmupT, 100);
  const perEpoch = createSchedule({ name: 'cosine', lr: 1e-3, epochs: 10, warmupEpochs: 1, warmupLr: 1e-6, lrMin: 1e-5, per: 'epoch' });
  // the per-iteration schedule at epoch boundaries equals the per-epoch one
  for (let e = 0; e < 12; e++) near(perIter.lrAt(e * 100), perEpoch.lrAt(e), `epoch ${e}`);
  assert.equal(perEpoch.applyTo({ paramGroups: [{ lr: 0 }] }, { epoch: 3, iteration: 345 }), perEpoch.lrAt(3));
  const ms = createSchedule({ name: 'multistep', lr: 0.1, milestones: [2, 4], per: 'iteration', itersPerEpoch: 10 }) as MultiStepSchedule;
  assert.deepEqual(ms.milestones, [20, 40]);
  assert.throws(() => createSchedule({ name: 'step', lr: 0.1, decayEpochs: 2 }), /itersPerEpoch/);
  assert.throws(() => createSchedule({ name: 'nope', lr: 0.1 } as any), /unknown schedule/);
});

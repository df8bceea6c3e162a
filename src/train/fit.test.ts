// The one training step and evaluator (train/fit.ts): accumulation is the same step as one big
// batch, non-finite losses stop or skip without touching the weights, clipping bounds the update,
// evaluate/accuracy agree with a hand count, and fit() reports each term per step.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor, tidy, keep, randn, randint, manualSeed, fromTypedArray, noGrad } from '../tensor';
import { createModel, Classifier } from '../models/registry';
import { CrossEntropyOnly } from '../distill/methods/ce';
import { Distiller, DistillBatch, TrainOutput } from '../distill/distiller';
import { SGD } from '../optim';
import { Stepper, NonFiniteError, fit, evaluate, accuracy, tensorBatches } from './fit';
import '../models';

const make = (seed: number): Classifier => { manualSeed(seed); return createModel('tiny_cnn', { numClasses: 10, inChans: 1, imgSize: 28, width: 4 }); };
const ctx = (step: number) => ({ step, epoch: 0, totalEpochs: 1, stepsPerEpoch: 10 });
const weights = (m: Classifier) => m.parameters().map((p) => p.detach().clone());
const maxDiff = (a: Tensor[], b: Tensor[]) => Math.max(...a.map((t, i) => t.sub(b[i]).abs().max().item()));

class NanAt extends Distiller {
  readonly method = 'nan_at';
  constructor(student: Classifier, readonly bad: number) { super(student, []); }
  trainStep(b: DistillBatch, c: { step: number }): TrainOutput {
    const logits = this.student.call(b.x);
    const ce = logits.pow(2).mean();
    return { logits, terms: { ce: c.step === this.bad ? ce.mul(NaN) : ce } };
  }
}

test('two accumulated micro-batches make the same SGD step as their concatenation', () => tidy(() => {
  manualSeed(0);
  const x = randn([16, 1, 28, 28]), y = randint(0, 10, [16]);
  const a = make(1), b = make(1);
  assert.equal(maxDiff(weights(a), weights(b)), 0);
  // BatchNorm in eval mode: batch statistics of 8 and of 16 images would differ by design
  const da = new CrossEntropyOnly(a).eval(), db = new CrossEntropyOnly(b).eval();
  const sa = new Stepper(da, new SGD(a, { lr: 0.1, momentum: 0, weightDecay: 0 }), { accumulate: 2 });
  const r1 = sa.step({ x: x.narrow(0, 0, 8), y: y.narrow(0, 0, 8) }, ctx(0));
  assert.equal(r1.kind, 'accumulating');
  const r2 = sa.step({ x: x.narrow(0, 8, 8), y: y.narrow(0, 8, 8) }, ctx(0));
  assert.equal(r2.kind, 'stepped');
  const sb = new Stepper(db, new SGD(b, { lr: 0.1, momentum: 0, weightDecay: 0 }));
  assert.equal(sb.step({ x, y }, ctx(0)).kind, 'stepped');
  const d = maxDiff(weights(a), weights(b));
  assert.ok(d < 1e-5, `accumulated vs one batch differ by ${d}`);
  assert.ok(maxDiff(weights(a), weights(make(1))) > 1e-4, 'the step changed the weights');
}));

test('a non-finite loss: stop names the step and term; skip leaves the weights and gradients untouched', () => tidy(() => {
  manualSeed(0);
  const x = randn([4, 1, 28, 28]), y = randint(0, 10, [4]);
  const m = make(2);
  const stop = new Stepper(new NanAt(m, 0), new SGD(m, { lr: 0.1 }));
  assert.throws(() => stop.step({ x, y }, ctx(0)), (e: Error) => e instanceof NonFiniteError && /non-finite loss at step 0 \(epoch 1\): term 'ce' = NaN/.test(e.message));
  const m2 = make(2), before = weights(m2), logs: string[] = [];
  const skip = new Stepper(new NanAt(m2, 1), new SGD(m2, { lr: 0.1 }), { onNonFinite: 'skip', log: (l) => logs.push(l) });
  assert.equal(skip.step({ x, y }, ctx(0)).kind, 'stepped');
  const after0 = weights(m2);
  assert.ok(maxDiff(before, after0) > 0);
  const r = skip.step({ x, y }, ctx(1));
  assert.equal(r.kind, 'skipped');
  assert.equal(maxDiff(after0, weights(m2)), 0, 'a skipped step moves no weight');
  assert.ok(m2.parameters().every((p) => !p.grad || p.grad.abs().max().item() === 0), 'gradients are cleared');
  assert.match(logs[0], /term 'ce' = NaN; skipping the step/);
}));

test('clipping bounds the SGD update to lr × max norm', () => tidy(() => {
  manualSeed(0);
  const x = randn([8, 1, 28, 28]).mul(50), y = randint(0, 10, [8]);
  const m = make(3), before = weights(m);
  const s = new Stepper(new CrossEntropyOnly(m), new SGD(m, { lr: 0.5, momentum: 0, weightDecay: 0 }), { clipGrad: 1e-3 });
  assert.equal(s.step({ x, y }, ctx(0)).kind, 'stepped');
  const after = weights(m);
  const norm = Math.sqrt(after.reduce((acc, t, i) => acc + t.sub(before[i]).pow(2).sum().item(), 0));
  assert.ok(Math.abs(norm - 0.5e-3) < 1e-5, `update norm ${norm}, expected lr × clip = 5e-4`);
}));

test('evaluate and accuracy count top-1/top-5 like a hand count, over uneven batches', () => tidy(() => {
  manualSeed(4);
  const logits = randn([37, 10]), y = randint(0, 10, [37]);
  const pred = logits.argmax(1).toTypedArray() as BigInt64Array, lab = y.toTypedArray() as BigInt64Array;
  const hits = pred.filter((p, i) => p === lab[i]).length;
  const rank = noGrad(() => logits.gt(logits.gather(1, y.unsqueeze(1))).sum(1).toTypedArray() as BigInt64Array);
  const hits5 = Array.from(rank).filter((r) => r < 5n).length;
  // the "model" looks its logits up by position: the image tensor holds row indices
  const idx = fromTypedArray(Float32Array.from({ length: 37 }, (_, i) => i), [37, 1]);
  const lookup = (xb: Tensor) => logits.indexSelect(0, xb.squeeze(1).to('int64'));
  const r = evaluate(lookup, tensorBatches(idx, y, 8));
  assert.equal(r.n, 37);
  assert.equal(r.top1, hits / 37);
  assert.equal(r.top5, hits5 / 37);
  assert.equal(accuracy(lookup, idx, y, 5), hits / 37);
}));

test('fit reports every term at every step and trains the distiller', () => {
  manualSeed(5);
  const x = keep(randn([32, 1, 28, 28])), y = keep(randint(0, 10, [32]));
  const m = make(6);
  const seen: number[] = [];
  const hist = fit(new CrossEntropyOnly(m), () => ({ x, y }), { steps: 12, lr: 0.05, onStep: (s) => seen.push(s) });
  assert.deepEqual(Object.keys(hist), ['ce']);
  assert.equal(hist.ce.length, 12);
  assert.deepEqual(seen, Array.from({ length: 12 }, (_, i) => i));
  assert.ok(hist.ce[11] < hist.ce[0], `one fixed batch: ${hist.ce[0]} → ${hist.ce[11]}`);
  x.dispose(); y.dispose();
});

class TwoTerms extends Distiller {
  readonly method = 'two_terms';
  constructor(student: Classifier) { super(student, []); }
  trainStep(b: DistillBatch): TrainOutput {
    const logits = this.student.call(b.x);
    return { logits, terms: { a: logits.pow(2).mean(), b: logits.abs().mean().mul(0.5) } };
  }
}

test('a step reads the device back once: the term values and the gradients\' finiteness together', () => tidy(() => {
  manualSeed(0);
  const x = randn([4, 1, 28, 28]), y = randint(0, 10, [4]);
  const m = make(4);
  const d = new TwoTerms(m);
  const expected = tidy(() => noGrad(() => { const o = d.trainStep({ x, y }); return [o.terms.a.item(), o.terms.b.item()]; }));
  const s = new Stepper(d, new SGD(m, { lr: 0.1 }));
  // count every path from a tensor to a JS number (item, toFloat64Array, toTypedArray)
  const proto = Tensor.prototype as any, saved: Record<string, any> = {};
  let reads = 0, depth = 0;
  for (const k of ['item', 'toFloat64Array', 'toTypedArray']) {
    const f = saved[k] = proto[k];
    // outermost calls only (toFloat64Array calls toTypedArray)
    proto[k] = function (this: Tensor, ...args: unknown[]) { if (depth++ === 0) reads++; try { return f.apply(this, args); } finally { depth--; } };
  }
  let r;
  try { r = s.step({ x, y }, ctx(0)); } finally { for (const k of Object.keys(saved)) proto[k] = saved[k]; }
  // the old step read each term (2) and each parameter's gradient flag (one per parameter)
  assert.equal(reads, 1, `host read-backs in one step: ${reads}`);
  assert.equal(r.kind, 'stepped');
  if (r.kind === 'stepped') {
    assert.equal(r.terms.a, expected[0]);
    assert.equal(r.terms.b, expected[1]);
    assert.equal(r.loss, expected[0] + expected[1]);
  }
}));

// civt-step: one Co-advise (CivT) distillation step at 32×32, civet's side of
// bench/reference/torch_bench.py --workload civt-step: student CivT-Ti (5,559,792 parameters at
// 10 classes), frozen teachers torchvision resnet18 (11,181,642) and RedNet-26 (7,204,656) in
// eval mode without gradients, loss CE(cls) + KL(conv ‖ CNN) + KL(inv ‖ INN) (batchmean, T = 1),
// AdamW(lr 1e-3, weight decay 0.05 on every parameter, as the reference).
import { randn, randint, F, manualSeed, tidy } from '../src/tensor';
import { AdamW } from '../src/optim/adamw';
import { createModel } from '../src/models/registry';
import '../src/models';
import '../src/distill';
import { createDistiller } from '../src/distill/registry';
import { workload, timeSteps, maybeBf16 } from './workloads';
import { benchTeachers } from './teacher_modes';

export const civtStep = workload('civt-step', 'Co-advise step: CivT-Ti student, resnet18 + RedNet-26 teachers, AdamW', (a) => {
  manualSeed(0);
  const o = { numClasses: a.classes, imgSize: 32 };
  const student = createModel('civt_tiny', o).to(a.device);
  const cnn = createModel('resnet18', o).to(a.device);
  const inn = createModel('rednet26', o).to(a.device);
  // live, replayed from a warmed cache (--cache), or fixed outputs (--student-only): bench/teacher_modes.ts
  const bt = benchTeachers([cnn, inn], a.teacher ?? 'live', { batch: a.batch, chans: 3, size: 32, classes: a.classes, device: a.device });
  const d = createDistiller('coadvise', { student, teachers: bt.teachers, numClasses: a.classes, imgSize: 32, inChans: 3 }, {}).train();
  const opt = new AdamW(student, { lr: 1e-3, weightDecay: 0.05 });
  const y = randint(0, a.classes, [a.batch], { device: a.device }).keep();
  let n = 0;
  const step = () => {
    const x = bt.select(n++);
    opt.zeroGrad();
    const loss = tidy(() => maybeBf16(a, () => {
      const out = d.trainStep({ x, y }, { step: 0, epoch: 0, totalEpochs: 1, stepsPerEpoch: 1 });
      return Object.values(out.terms).reduce((s, t) => s.add(t));
    }));
    loss.backward();
    loss.dispose();
    opt.step();
  };
  const med = timeSteps(step, a.steps, 3);
  const res = {
    step_ms_median: med * 1e3, images_per_s: a.batch / med, params: student.numParameters(),
    teacher_params: [cnn.numParameters(), inn.numParameters()],
    ...(a.teacher === 'cache' ? { cache_misses_timed: bt.missesAfterWarmup() } : {}),
  };
  void F;
  opt.dispose(); d.dispose(); cnn.dispose(); inn.dispose(); bt.dispose(); y.dispose();
  return res;
});

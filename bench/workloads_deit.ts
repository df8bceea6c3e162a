// deit-step: one DeiT hard-distillation step at ImageNet resolution, civet's side of
// bench/reference/torch_bench.py --workload deit-step: student DeiT-Ti/16 distilled at 224×224
// (class + distillation tokens, two heads; 5,563,400 parameters at 100 classes), frozen teacher
// torchvision resnet50 (23,712,932 at 100 classes) in eval mode without gradients, loss
// 0.5·CE(cls head, y) + 0.5·CE(dist head, argmax teacher) (no label smoothing, as the reference),
// AdamW(lr 1e-3, weight decay 0.05 on every parameter, as the reference).
import { randn, randint, manualSeed, tidy } from '../src/tensor';
import { AdamW } from '../src/optim/adamw';
import { createModel } from '../src/models/registry';
import '../src/models';
import '../src/distill';
import { createDistiller } from '../src/distill/registry';
import { workload, timeSteps, maybeBf16 } from './workloads';
import { benchTeachers, type TeacherMode } from './teacher_modes';

export interface DeitStep {
  /** teacher forward + student forward/backward + AdamW step, inside tidy(); returns the loss
   *  when `read` is set (a device read-back, so the timed bench step leaves it off), else NaN */
  step: (read?: boolean) => number;
  params: number;
  teacherParams: number;
  /** cache mode: teacher rows computed live after the warm-up (0 = the timed steps replayed) */
  missesAfterWarmup: () => number;
  dispose: () => void;
}

/** `imgSize` is 224 in the benchmark; tests use a smaller image (patch 16 still) to stay fast.
 *  `mode`: the teacher live, replayed from a warmed cache, or its outputs fixed (student-only). */
export function deitStep(batch: number, classes = 100, device = 'cpu', seed = 0, imgSize = 224, mode: TeacherMode = 'live', bf16 = false): DeitStep {
  manualSeed(seed);
  const student = tidy(() => createModel('deit_tiny_distilled', { numClasses: classes, imgSize, patchSize: 16 }).to(device));
  const teacher = tidy(() => createModel('resnet50', { numClasses: classes }).to(device));
  const bt = benchTeachers([teacher], mode, { batch, chans: 3, size: imgSize, classes, device });
  const d = createDistiller('deit', { student, teachers: bt.teachers, numClasses: classes, imgSize, inChans: 3 }, { type: 'hard', alpha: 0.5, labelSmoothing: 0 }).train();
  const opt = new AdamW(student, { lr: 1e-3, weightDecay: 0.05 });
  const y = randint(0, classes, [batch], { device }).keep();
  let n = 0;
  const step = (read = false) => tidy(() => {
    const x = bt.select(n++);
    opt.zeroGrad();
    // the forward in its own scope, so backward frees activations as it goes (as in civt-step)
    const loss = tidy(() => maybeBf16({ bf16, device }, () => {
      const out = d.trainStep({ x, y }, { step: 0, epoch: 0, totalEpochs: 1, stepsPerEpoch: 1 });
      return Object.values(out.terms).reduce((s, t) => s.add(t));
    }));
    loss.backward();
    opt.step();
    return read ? loss.item() : NaN;
  });
  return {
    step, params: student.numParameters(), teacherParams: teacher.numParameters(), missesAfterWarmup: bt.missesAfterWarmup,
    dispose: () => { opt.zeroGrad(); opt.dispose(); d.dispose(); teacher.dispose(); bt.dispose(); y.dispose(); },
  };
}

export const deitStepWorkload = workload('deit-step', 'DeiT hard distillation at 224: DeiT-Ti/16 student, resnet50 teacher, AdamW (use --batch 16 --classes 100)', (a) => {
  const w = deitStep(a.batch, a.classes, a.device, 0, 224, a.teacher ?? 'live', a.bf16);
  const med = timeSteps(w.step, a.steps, 1);
  const out = {
    step_ms_median: med * 1e3, images_per_s: a.batch / med, params: w.params, teacher_params: [w.teacherParams],
    ...(a.teacher === 'cache' ? { cache_misses_timed: w.missesAfterWarmup() } : {}),
  };
  w.dispose();
  return out;
});

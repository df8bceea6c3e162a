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
import { workload, timeSteps } from './workloads';

export interface DeitStep {
  /** teacher forward + student forward/backward + AdamW step, inside tidy(); returns the loss
   *  when `read` is set (a device read-back, so the timed bench step leaves it off), else NaN */
  step: (read?: boolean) => number;
  params: number;
  teacherParams: number;
  dispose: () => void;
}

/** `imgSize` is 224 in the benchmark; tests use a smaller image (patch 16 still) to stay fast. */
export function deitStep(batch: number, classes = 100, device = 'cpu', seed = 0, imgSize = 224): DeitStep {
  manualSeed(seed);
  const student = tidy(() => createModel('deit_tiny_distilled', { numClasses: classes, imgSize, patchSize: 16 }).to(device));
  const teacher = tidy(() => createModel('resnet50', { numClasses: classes }).to(device));
  const d = createDistiller('deit', { student, teachers: [teacher], numClasses: classes, imgSize, inChans: 3 }, { type: 'hard', alpha: 0.5, labelSmoothing: 0 }).train();
  const opt = new AdamW(student, { lr: 1e-3, weightDecay: 0.05 });
  const x = randn([batch, 3, imgSize, imgSize], { device }).keep();
  const y = randint(0, classes, [batch], { device }).keep();
  const step = (read = false) => tidy(() => {
    opt.zeroGrad();
    // the forward in its own scope, so backward frees activations as it goes (as in civt-step)
    const loss = tidy(() => {
      const out = d.trainStep({ x, y }, { step: 0, epoch: 0, totalEpochs: 1, stepsPerEpoch: 1 });
      return Object.values(out.terms).reduce((s, t) => s.add(t));
    });
    loss.backward();
    opt.step();
    return read ? loss.item() : NaN;
  });
  return {
    step, params: student.numParameters(), teacherParams: teacher.numParameters(),
    dispose: () => { opt.zeroGrad(); opt.dispose(); d.dispose(); teacher.dispose(); x.dispose(); y.dispose(); },
  };
}

export const deitStepWorkload = workload('deit-step', 'DeiT hard distillation at 224: DeiT-Ti/16 student, resnet50 teacher, AdamW (use --batch 16 --classes 100)', (a) => {
  const w = deitStep(a.batch, a.classes, a.device);
  const med = timeSteps(w.step, a.steps, 1);
  const out = { step_ms_median: med * 1e3, images_per_s: a.batch / med, params: w.params, teacher_params: [w.teacherParams] };
  w.dispose();
  return out;
});

// Golden loss cases of the cross-architecture methods (docs/crossarch.md), mapped to civet's loss functions.
import { registerLossCase } from '../registry';
import { coadviseTerms, deitSoft, deitHard, cskdDense, ofaLoss } from '../../distill/losses/crossarch';

registerLossCase('coadvise', (x, o) => {
  const t = coadviseTerms({ cls: x.cls_logits, conv: x.conv_logits, inv: x.inv_logits }, x.target, x.cnn_teacher_logits, x.inn_teacher_logits, o.temperature ?? 1);
  return t.ce.add(t.kd_conv).add(t.kd_inv);
});
registerLossCase('deit_soft', (x, o) => deitSoft(x.student_logits, x.teacher_logits, o.temperature));
registerLossCase('deit_hard', (x) => deitHard(x.student_logits, x.teacher_logits));
registerLossCase('cskd', (x, o) => cskdDense(x.student_dense_logits, x.teacher_dense_logits, o.student_grid, {
  epoch: o.epoch, maxEpoch: o.max_epoch, decay: o.decay, lossType: o.loss_type, temperature: o.temperature,
}));
registerLossCase('ofa', (x, o) => ofaLoss(x.student_logits, x.teacher_logits, x.target, o.eps, o.temperature ?? 1));

// Conformance evaluators for the classic-KD golden losses (test/fixtures/golden/losses.json):
// each maps the golden inputs/options (named as in reference/golden_losses.py) onto civet's losses.
import { registerLossCase } from '../registry';
import {
  hintonKd, dkdLoss, atLoss, spLoss, rkdLoss, pktLoss, fspLoss, overhaulLoss, overhaulMargin, csKdLoss,
  bnStatisticsLoss, imagePriorTv, adiCompetition, tfkdVirtualLoss, kdclMinLogitLoss, distLoss,
} from '../../distill/losses/classic';
import { maybeStandardized } from '../../distill/losses/common';

export const PART2_LOSS_CASES = [
  'kd', 'dkd', 'at', 'sp', 'rkd', 'pkt', 'fsp', 'overhaul', 'cs_kd', 'bn_statistics', 'image_prior_tv',
  'adi_competition', 'tfkd_virtual', 'kdcl_minlogit', 'kd_lskd', 'dist',
] as const;

registerLossCase('kd', (i, o) => hintonKd(i.student_logits, i.teacher_logits, o.temperature));
registerLossCase('dkd', (i, o) => dkdLoss(i.student_logits, i.teacher_logits, i.target, { alpha: o.alpha, beta: o.beta, temperature: o.temperature }));
registerLossCase('at', (i, o) => atLoss(i.student_feature, i.teacher_feature, o.p ?? 2));
registerLossCase('sp', (i) => spLoss(i.student_feature, i.teacher_feature));
registerLossCase('rkd', (i, o) => rkdLoss(i.student_embedding, i.teacher_embedding, o.w_dist, o.w_angle));
registerLossCase('pkt', (i, o) => pktLoss(i.student_feature, i.teacher_feature, o.eps ?? 1e-7));
registerLossCase('fsp', (i) => fspLoss(i.student_features, i.teacher_features));
registerLossCase('overhaul', (i) => overhaulLoss(i.student_feature, i.teacher_feature, overhaulMargin(i.teacher_bn_weight, i.teacher_bn_bias)));
registerLossCase('cs_kd', (i, o) => csKdLoss(i.logits, i.paired_logits, o.temperature));
registerLossCase('bn_statistics', (i) => bnStatisticsLoss(i.features, i.running_mean, i.running_var));
registerLossCase('image_prior_tv', (i) => { const { l1, l2 } = imagePriorTv(i.images); return l1.add(l2); });
registerLossCase('adi_competition', (i, o) => adiCompetition(i.student_logits, i.teacher_logits, o.temperature));
registerLossCase('tfkd_virtual', (i, o) => tfkdVirtualLoss(i.logits, i.target, {
  alpha: o.alpha, temperature: o.temperature, multiplier: o.multiplier, correctProb: o.correct_prob,
}));
registerLossCase('kdcl_minlogit', (i, o) => kdclMinLogitLoss(i.student_logits, i.target, o.temperature));
// LSKD (methods.md §19): the kd method's logitStand path, z-scored logits then Hinton KD (batchmean, T²)
registerLossCase('kd_lskd', (i, o) => hintonKd(...maybeStandardized(i.student_logits, i.teacher_logits, true), o.temperature));
// DIST (methods.md §20): the dist method's loss
registerLossCase('dist', (i, o) => distLoss(i.student_logits, i.teacher_logits, { beta: o.beta, gamma: o.gamma, temperature: o.temperature }));

// FSP matrices (Yim et al.; RepDistiller FSP.py).
import { Tensor, F, einsum } from '../../../tensor';

/** FSP matrices between consecutive maps (the larger map adaptive-avg-pooled to the smaller). */
export function fspMatrices(fs: Tensor[]): Tensor[] {
  const out: Tensor[] = [];
  for (let i = 0; i + 1 < fs.length; i++) {
    let bot = fs[i], top = fs[i + 1];
    if (bot.shape[2] > top.shape[2]) bot = F.adaptive_avg_pool2d(bot, [top.shape[2], top.shape[3]]);
    else if (bot.shape[2] < top.shape[2]) top = F.adaptive_avg_pool2d(top, [bot.shape[2], bot.shape[3]]);
    const b = bot.reshape(bot.shape[0], bot.shape[1], -1);
    const t = top.reshape(top.shape[0], top.shape[1], -1);
    out.push(einsum('bip,bjp->bij', b, t).div(b.shape[2]));
  }
  return out;
}

/** Σ over pairs of mean((G_s - G_t)²). Channel counts must match pairwise. */
export function fspLoss(student: Tensor[], teacher: Tensor[]): Tensor {
  const gs = fspMatrices(student), gt = fspMatrices(teacher);
  if (gs.length !== gt.length) throw new Error(`fsp: ${student.length} student maps vs ${teacher.length} teacher maps`);
  return gs.map((g, i) => {
    if (g.shape[1] !== gt[i].shape[1] || g.shape[2] !== gt[i].shape[2]) {
      throw new Error(`fsp: FSP matrix ${i} is [${g.shape.slice(1)}] for the student and [${gt[i].shape.slice(1)}] for the teacher; FSP needs equal channel counts`);
    }
    return g.sub(gt[i]).pow(2).mean();
  }).reduce((a, b) => a.add(b));
}

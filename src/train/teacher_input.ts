// A teacher keeps its own input convention. A pretrained teacher expects the normalisation and
// resolution it was trained with (ImageNet mean/std at 224 px, say), which need not be the
// student's. Each batch the student sees is converted for the teacher: un-normalised with the
// data's statistics, resized (bilinear, align_corners=False), grey repeated to the teacher's
// channels, re-normalised with the teacher's — the conversion timm's distillation task applies
// when teacher and student were set up differently. Exact when the student's batch is at the
// images' stored size; otherwise the two resizes compound.
import { Tensor, tidy, fromTypedArray, F } from '../tensor';
import type { Normalize } from '../data/batch';

export interface InputConvention { normalize: Normalize; imgSize: number; inChans: number }

const stat = (v: number[], dtype: Tensor['dtype'], device: string) => fromTypedArray(Float32Array.from(v), [1, v.length, 1, 1]).to({ dtype, device });

export function sameConvention(a: InputConvention, b: InputConvention): boolean {
  const eq = (x: number[], y: number[]) => x.length === y.length && x.every((v, i) => v === y[i]);
  return a.imgSize === b.imgSize && a.inChans === b.inChans && eq(a.normalize.mean, b.normalize.mean) && eq(a.normalize.std, b.normalize.std);
}

/** The student's batch x ([B, C, H, W] under `from`) as the teacher expects it (`to`). */
export function convertInput(x: Tensor, from: InputConvention, to: InputConvention): Tensor {
  return tidy(() => {
    let y = x.mul(stat(from.normalize.std, x.dtype, x.device)).add(stat(from.normalize.mean, x.dtype, x.device)); // pixels in [0, 1]
    if (y.shape[2] !== to.imgSize || y.shape[3] !== to.imgSize) y = F.interpolate(y, { size: [to.imgSize, to.imgSize], mode: 'bilinear', align_corners: false });
    const c = y.shape[1];
    if (c !== to.inChans) {
      if (c === 1) y = y.expand(y.shape[0], to.inChans, y.shape[2], y.shape[3]);
      else if (to.inChans === 1) y = y.mean(1, true);
      else throw new Error(`teacher input: cannot turn ${c}-channel images into ${to.inChans} channels`);
    }
    return y.sub(stat(to.normalize.mean, y.dtype, y.device)).div(stat(to.normalize.std, y.dtype, y.device)).contiguous();
  });
}

/** Makes `teacher` convert every batch before its forward (a Module's forward, or a logits function). */
export function withInputConvention<T extends object>(teacher: T, from: InputConvention, to: InputConvention): T {
  if (sameConvention(from, to)) return teacher;
  const t = teacher as any;
  const key = typeof t.logits === 'function' ? 'logits' : 'forward';
  const inner = t[key].bind(t);
  t[key] = (x: Tensor, ...rest: unknown[]) => inner(convertInput(x, from, to), ...rest);
  t.inputConvention = to;
  return teacher;
}

/** The convention recorded by civet import in a weights file's metadata (missing parts undefined). */
export function conventionFromMetadata(md: Record<string, string>): { normalize?: Normalize; imgSize?: number; inChans?: number; options?: Record<string, unknown> } {
  const out: ReturnType<typeof conventionFromMetadata> = {};
  try {
    if (md['civet.normalize']) out.normalize = JSON.parse(md['civet.normalize']);
    if (md['civet.options']) out.options = JSON.parse(md['civet.options']);
  } catch { /* not civet's metadata */ }
  if (md['civet.img_size']) out.imgSize = Number(md['civet.img_size']);
  if (md['civet.in_chans']) out.inChans = Number(md['civet.in_chans']);
  return out;
}

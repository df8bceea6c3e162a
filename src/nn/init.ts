// Initializers with torch.nn.init's formulas (fans, gains, bounds). All run without grad.
import { Tensor, noGrad } from '../tensor';
import type { Generator } from '../tensor';

export function fans(t: Tensor): { fanIn: number; fanOut: number } {
  const s = t.shape;
  if (s.length < 2) throw new Error(`fan in and fan out can not be computed for a tensor with fewer than 2 dimensions (shape [${s}])`);
  const receptive = s.slice(2).reduce((a, b) => a * b, 1);
  return { fanIn: s[1] * receptive, fanOut: s[0] * receptive };
}

export function calculateGain(nonlinearity: 'linear' | 'conv2d' | 'sigmoid' | 'tanh' | 'relu' | 'leaky_relu' | 'selu', param?: number): number {
  switch (nonlinearity) {
    case 'tanh': return 5 / 3;
    case 'relu': return Math.SQRT2;
    case 'leaky_relu': { const a = param ?? 0.01; return Math.sqrt(2 / (1 + a * a)); }
    case 'selu': return 3 / 4;
    default: return 1;
  }
}

export const zeros_ = (t: Tensor) => noGrad(() => t.zero_());
export const ones_ = (t: Tensor) => noGrad(() => t.fill_(1));
export const constant_ = (t: Tensor, v: number) => noGrad(() => t.fill_(v));
export const normal_ = (t: Tensor, mean = 0, std = 1, g?: Generator) => noGrad(() => t.normal_(mean, std, g));
export const uniform_ = (t: Tensor, a = 0, b = 1, g?: Generator) => noGrad(() => t.uniform_(a, b, g));
export const truncNormal_ = (t: Tensor, mean = 0, std = 1, a = -2, b = 2, g?: Generator) => noGrad(() => t.truncNormal_(mean, std, a, b, g));

export interface KaimingOptions { a?: number; mode?: 'fan_in' | 'fan_out'; nonlinearity?: 'relu' | 'leaky_relu' | 'linear'; generator?: Generator }
export function kaimingUniform_(t: Tensor, o: KaimingOptions = {}): Tensor {
  const f = fans(t);
  const gain = calculateGain(o.nonlinearity ?? 'leaky_relu', o.a ?? 0);
  const bound = Math.sqrt(3) * gain / Math.sqrt(o.mode === 'fan_out' ? f.fanOut : f.fanIn);
  return uniform_(t, -bound, bound, o.generator);
}
export function kaimingNormal_(t: Tensor, o: KaimingOptions = {}): Tensor {
  const f = fans(t);
  const gain = calculateGain(o.nonlinearity ?? 'leaky_relu', o.a ?? 0);
  return normal_(t, 0, gain / Math.sqrt(o.mode === 'fan_out' ? f.fanOut : f.fanIn), o.generator);
}
export function xavierUniform_(t: Tensor, gain = 1, g?: Generator): Tensor {
  const f = fans(t);
  const a = gain * Math.sqrt(6 / (f.fanIn + f.fanOut));
  return uniform_(t, -a, a, g);
}
export function xavierNormal_(t: Tensor, gain = 1, g?: Generator): Tensor {
  const f = fans(t);
  return normal_(t, 0, gain * Math.sqrt(2 / (f.fanIn + f.fanOut)), g);
}

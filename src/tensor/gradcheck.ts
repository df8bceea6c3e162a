// Numerical gradient checking (torch.autograd.gradcheck's idea): compare autograd's gradient of
// sum(fn(...xs) · r), for a fixed random r, with central finite differences in float64.
import { Tensor } from './tensor';
import { Generator, randn, fromTypedArray } from './creation';
import { tidy } from './scope';
import { grad, noGrad } from './autograd';
import { isFloating } from './dtype';

export interface GradcheckOptions {
  /** finite-difference step */
  eps?: number;
  /** absolute tolerance */
  atol?: number;
  /** relative tolerance (of the numeric value) */
  rtol?: number;
  /** seed for the random projection r of the output */
  seed?: number;
  /**
   * Which inputs to differentiate: by default every floating-point input, or only those with
   * requiresGrad set when any is set.
   */
  wrt?: number[];
}

/** Multi-index of flat element `j` in a tensor of `shape` (row-major). */
function unravel(j: number, shape: number[]): number[] {
  const idx = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    idx[d] = j % shape[d];
    j = Math.floor(j / shape[d]);
  }
  return idx;
}

/**
 * Checks fn's gradient w.r.t. its floating-point inputs. The inputs are copied to float64 (the
 * originals are not touched); integer inputs (indices, masks) pass through unchanged. Throws an
 * Error naming the input index, the element, the analytic and numeric values on a mismatch;
 * returns true otherwise. Every tensor it creates is freed.
 */
export function gradcheck(fn: (...xs: Tensor[]) => Tensor, inputs: Tensor[], opts: GradcheckOptions = {}): true {
  const { eps = 1e-6, atol = 1e-5, rtol = 1e-3, seed = 1234 } = opts;
  if (!Array.isArray(inputs) || inputs.length === 0) throw new TypeError('gradcheck: inputs must be a non-empty array of tensors');
  inputs.forEach((t, i) => {
    if (!(t instanceof Tensor)) throw new TypeError(`gradcheck: input ${i} is not a Tensor`);
  });
  const anyFlagged = inputs.some((t) => isFloating(t.dtype) && t.requiresGrad);
  const wrt = opts.wrt ?? inputs.map((t, i) => i).filter((i) => isFloating(inputs[i].dtype) && (!anyFlagged || inputs[i].requiresGrad));
  if (wrt.length === 0) throw new TypeError('gradcheck: no floating-point input to differentiate');
  for (const i of wrt) {
    if (i < 0 || i >= inputs.length || !isFloating(inputs[i].dtype)) throw new TypeError(`gradcheck: input ${i} is not a floating-point tensor`);
  }

  tidy(() => {
    // float64 leaf copies: the differentiated ones require grad, the rest are detached constants
    const data: (Float64Array | null)[] = inputs.map((t, i) => (wrt.includes(i) ? t.toFloat64Array() : null));
    const shapes = inputs.map((t) => t.shape.slice());
    const base: Tensor[] = inputs.map((t, i) => {
      if (!wrt.includes(i)) return isFloating(t.dtype) ? t.detach().to('float64') : t;
      return fromTypedArray(data[i]!, shapes[i], { requiresGrad: true });
    });

    const out0 = fn(...base);
    if (!(out0 instanceof Tensor)) throw new TypeError('gradcheck: fn must return a Tensor');
    if (!isFloating(out0.dtype)) throw new TypeError(`gradcheck: fn returned a ${out0.dtype} tensor, expected floating point`);
    const r = randn(out0.shape, { dtype: 'float64', generator: new Generator(seed) });
    const rArr = r.toFloat64Array();

    // analytic: d/dx sum(out · r)
    const diff = wrt.map((i) => base[i]);
    let analytic: (Float64Array | null)[];
    if (out0.requiresGrad) {
      const loss = out0.to('float64').mul(r).sum();
      const gs = grad(loss, diff, { allowUnused: true });
      analytic = gs.map((g, k) => {
        if (g === null) return null;
        if (g.shape.join(',') !== shapes[wrt[k]].join(',')) {
          throw new Error(`gradcheck: gradient of input ${wrt[k]} has shape [${g.shape}], expected [${shapes[wrt[k]]}]`);
        }
        return g.toFloat64Array();
      });
    } else {
      analytic = wrt.map(() => null);  // output not connected to the graph: gradient is zero
    }

    // numeric: central differences of the same projection
    const project = (xs: Tensor[]): number => tidy(() => {
      const out = fn(...xs);
      if (out.shape.join(',') !== out0.shape.join(',')) throw new Error(`gradcheck: fn's output shape changed to [${out.shape}]`);
      const o = out.toFloat64Array();
      let s = 0;
      for (let k = 0; k < o.length; k++) s += o[k] * rArr[k];
      return s;
    });
    wrt.forEach((i, k) => {
      const x = data[i]!;
      for (let j = 0; j < x.length; j++) {
        const v = x[j];
        const at = (val: number) => noGrad(() => tidy(() => {
          const p = new Float64Array(x);
          p[j] = val;
          const xs = base.slice();
          xs[i] = fromTypedArray(p, shapes[i]);
          return project(xs);
        }));
        const numeric = (at(v + eps) - at(v - eps)) / (2 * eps);
        const a = analytic[k] ? analytic[k]![j] : 0;
        const tol = atol + rtol * Math.abs(numeric);
        if (!(Math.abs(a - numeric) <= tol)) {
          throw new Error(
            `gradcheck: gradient mismatch for input ${i} at element ${j} (index [${unravel(j, shapes[i]).join(', ')}]): ` +
            `analytic ${a} vs numeric ${numeric} (|difference| ${Math.abs(a - numeric)} > tolerance ${tol})`,
          );
        }
      }
    });
  });
  return true;
}

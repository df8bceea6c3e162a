// Parameter-free layers and containers.
import { Tensor, F, rand, noGrad } from '../../tensor';
import { Module } from '../module';

export class Identity extends Module {
  forward(x: Tensor): Tensor { return x; }
}

export class Dropout extends Module {
  constructor(readonly p = 0.5) { super(); if (p < 0 || p > 1) throw new RangeError(`Dropout: p must be in [0, 1], got ${p}`); }
  forward(x: Tensor): Tensor { return this.p === 0 || !this.training ? x : F.dropout(x, this.p, true); }
}

/** Stochastic depth per sample (timm's drop_path): zero whole residual branches with prob p, scale survivors by 1/(1-p). */
export function dropPath(x: Tensor, p: number, training: boolean): Tensor {
  if (p === 0 || !training) return x;
  const keep = 1 - p;
  const shape = [x.shape[0], ...x.shape.slice(1).map(() => 1)];
  const mask = noGrad(() => { const r = rand(shape, { dtype: x.dtype, device: x.device }); const m = r.lt(keep).to(x.dtype).div(keep); r.dispose(); return m; });
  const out = x.mul(mask);
  mask.dispose();
  return out;
}

export class DropPath extends Module {
  constructor(readonly p = 0) { super(); }
  forward(x: Tensor): Tensor { return dropPath(x, this.p, this.training); }
}

export class ReLU extends Module { forward(x: Tensor): Tensor { return F.relu(x); } }
export class GELU extends Module {
  constructor(readonly approximate: 'none' | 'tanh' = 'none') { super(); }
  forward(x: Tensor): Tensor { return F.gelu(x, { approximate: this.approximate }); }
}
export class SiLU extends Module { forward(x: Tensor): Tensor { return F.silu(x); } }
export class Sigmoid extends Module { forward(x: Tensor): Tensor { return F.sigmoid(x); } }

export class MaxPool2d extends Module {
  constructor(readonly kernelSize: number, readonly stride = kernelSize, readonly padding = 0) { super(); }
  forward(x: Tensor): Tensor { return F.max_pool2d(x, this.kernelSize, { stride: this.stride, padding: this.padding }); }
}
export class AvgPool2d extends Module {
  constructor(readonly kernelSize: number, readonly stride = kernelSize, readonly padding = 0, readonly opts: { ceilMode?: boolean; countIncludePad?: boolean } = {}) { super(); }
  forward(x: Tensor): Tensor {
    return F.avg_pool2d(x, this.kernelSize, { stride: this.stride, padding: this.padding, ceil_mode: this.opts.ceilMode, count_include_pad: this.opts.countIncludePad });
  }
}
export class AdaptiveAvgPool2d extends Module {
  constructor(readonly outputSize: number | [number, number]) { super(); }
  forward(x: Tensor): Tensor { return F.adaptive_avg_pool2d(x, this.outputSize); }
}
export class Flatten extends Module {
  constructor(readonly startDim = 1, readonly endDim = -1) { super(); }
  forward(x: Tensor): Tensor { return x.flatten(this.startDim, this.endDim); }
}

/** Children named 0, 1, 2, … as torch.nn.Sequential. Intermediates are left to the caller's tidy()
 *  scope rather than freed here: a forward hook (feature tap) may still need them. */
export class Sequential extends Module {
  private readonly layers: Module[] = [];
  constructor(...layers: Module[]) {
    super();
    layers.forEach((l) => this.append(l));
  }
  append(m: Module): this { this.module(String(this.layers.length), m); this.layers.push(m); return this; }
  get length(): number { return this.layers.length; }
  at(i: number): Module { return this.layers[i < 0 ? this.layers.length + i : i]; }
  [Symbol.iterator](): Iterator<Module> { return this.layers[Symbol.iterator](); }
  forward(x: Tensor): Tensor {
    let y = x;
    for (const l of this.layers) y = l.call(y);
    return y;
  }
}

/** A list of children named 0, 1, 2, … (no forward of its own). */
export class ModuleList extends Module {
  private readonly items: Module[] = [];
  constructor(items: Module[] = []) { super(); items.forEach((m) => this.append(m)); }
  append(m: Module): this { this.module(String(this.items.length), m); this.items.push(m); return this; }
  get length(): number { return this.items.length; }
  at(i: number): Module { return this.items[i < 0 ? this.items.length + i : i]; }
  [Symbol.iterator](): Iterator<Module> { return this.items[Symbol.iterator](); }
  forward(): never { throw new Error('ModuleList has no forward(); iterate over it'); }
}

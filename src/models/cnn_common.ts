// Building blocks shared by civet's CNN zoo (ResNet, CIFAR ResNet/WRN, RegNet, RedNet):
// conv-norm-act units named as timm's ConvNormAct / mmcv's ConvModule (`conv`, `bn`), the
// classifier head, initialisers and the stage description with pre-activation tap points.
import { Tensor, noGrad } from '../tensor';
import { Module } from '../nn/module';
import { Conv2d, BatchNorm2d, ReLU, Linear, Dropout } from '../nn/layers';
import * as init from '../nn/init';

/** A stage output plus, where the network has one, the module whose output is the same feature
 *  before its final ReLU (what OFD and other pre-activation methods distil). */
export interface ConvNormActOptions {
  stride?: number;
  /** default: timm's get_padding, ((stride - 1) + dilation·(k - 1)) / 2 rounded down */
  padding?: number;
  dilation?: number;
  groups?: number;
  /** BatchNorm after the conv (default true) */
  norm?: boolean;
  /** ReLU at the end (default true) */
  act?: boolean;
  /** conv bias (default: only when there is no norm, as mmcv's ConvModule bias='auto') */
  bias?: boolean;
}

/** Conv2d → BatchNorm2d → ReLU with children `conv`, `bn` (timm ConvNormAct, mmcv ConvModule). */
export class ConvNormAct extends Module {
  readonly conv: Conv2d;
  readonly bn: BatchNorm2d | null;
  readonly act: ReLU | null;
  constructor(readonly inChannels: number, readonly outChannels: number, kernelSize: number, o: ConvNormActOptions = {}) {
    super();
    const stride = o.stride ?? 1, dilation = o.dilation ?? 1;
    const padding = o.padding ?? Math.floor(((stride - 1) + dilation * (kernelSize - 1)) / 2);
    const norm = o.norm ?? true;
    this.conv = this.module('conv', new Conv2d(inChannels, outChannels, kernelSize, { stride, padding, dilation, groups: o.groups ?? 1, bias: o.bias ?? !norm }));
    this.bn = norm ? this.module('bn', new BatchNorm2d(outChannels)) : null;
    this.act = (o.act ?? true) ? this.module('act', new ReLU()) : null;
  }
  forward(x: Tensor): Tensor {
    let y = this.conv.call(x);
    if (this.bn) y = this.bn.call(y);
    if (this.act) y = this.act.call(y);
    return y;
  }
}

/** Global average pool → dropout → Linear `fc` (timm's ClassifierHead; mmcls LinearClsHead's `fc`).
 *  numClasses 0 leaves out the fc: the head returns the pooled features. */
export class ClassifierHead extends Module {
  readonly fc: Linear | null;
  readonly drop: Dropout | null;
  constructor(readonly inFeatures: number, readonly numClasses: number, dropRate = 0) {
    super();
    this.drop = dropRate > 0 ? this.module('drop', new Dropout(dropRate)) : null;
    this.fc = numClasses > 0 ? this.module('fc', new Linear(inFeatures, numClasses)) : null;
  }
  forward(x: Tensor, preLogits = false): Tensor {
    let y = x.ndim === 4 ? x.mean([2, 3]) : x;
    if (this.drop) y = this.drop.call(y);
    return preLogits || !this.fc ? y : this.fc.call(y);
  }
}

/** Global average pool of [N, C, H, W] to [N, C]. */
export function globalAvgPool(x: Tensor): Tensor { return x.mean([2, 3]); }

export interface CnnInitOptions {
  /** conv weights ~ N(0, 2/fan_out); 'torch' computes fan_out = out·k·k (kaiming_normal_ fan_out relu),
   *  'timm' divides it by groups as timm's RegNet/EfficientNet init does */
  fanOut?: 'torch' | 'timm';
  /** zero conv biases (timm, mmcv kaiming_init); otherwise left at torch's default */
  zeroConvBias?: boolean;
  /** Linear weights ~ N(0, std²) with zero bias; undefined leaves torch's default Linear init */
  linearStd?: number;
  /** Linear bias zero, weight at torch's default (RepDistiller's WRN) */
  zeroLinearBias?: boolean;
}

/** The usual CNN initialisation: convs kaiming-normal (fan_out, relu), BatchNorm weight 1 / bias 0. */
export function initCnn(model: Module, o: CnnInitOptions = {}): void {
  noGrad(() => {
    for (const [, m] of model.namedModules()) {
      if (m instanceof Conv2d) {
        const [kh, kw] = m.kernelSize;
        let fanOut = m.outChannels * kh * kw;
        if (o.fanOut === 'timm') fanOut = Math.floor(fanOut / (m.opts.groups ?? 1));
        init.normal_(m.weight, 0, Math.sqrt(2 / fanOut));
        if (m.bias && o.zeroConvBias) init.zeros_(m.bias);
      } else if (m instanceof BatchNorm2d) {
        if (m.weight) init.ones_(m.weight);
        if (m.bias) init.zeros_(m.bias);
      } else if (m instanceof Linear) {
        if (o.linearStd !== undefined) {
          init.normal_(m.weight, 0, o.linearStd);
          if (m.bias) init.zeros_(m.bias);
        } else if (o.zeroLinearBias && m.bias) {
          init.zeros_(m.bias);
        }
      }
    }
  });
}

/** Zeroes a BatchNorm's weight (gamma), so a residual branch starts as the identity. */
export function zeroGamma(bn: BatchNorm2d | null): void {
  if (bn?.weight) init.zeros_(bn.weight);
}

/** Python's round(): halves go to the even neighbour (numpy.round does the same). */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Per-block stochastic-depth rates, linearly from 0 to `rate` over all blocks (timm's linspace). */
export function dropPathRates(depths: number[], rate: number): number[][] {
  const total = depths.reduce((a, b) => a + b, 0);
  let k = 0;
  return depths.map((d) => Array.from({ length: d }, () => {
    const r = total > 1 ? (rate * k) / (total - 1) : 0;
    k++;
    return r;
  }));
}

/** Shared option checks: a positive integer class count (0 = no classifier). */
export function numClassesOf(o: { numClasses?: number }, dflt: number): number {
  const n = o.numClasses ?? dflt;
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`numClasses must be a non-negative integer, got ${n}`);
  return n;
}

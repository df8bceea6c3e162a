// The CIFAR knowledge-distillation benchmark networks of RepDistiller (Tian et al., CRD, ICLR 2020;
// HobbitLong/RepDistiller models/resnet.py and models/wrn.py), reused by mdistiller.
// State-dict names are those repositories':
//   ResNet: conv1, bn1, layer1..3.N.{conv1,bn1,conv2,bn2,downsample.0,downsample.1}, fc
//   WRN:    conv1, block1..3.layer.N.{bn1,conv1,bn2,conv2,convShortcut}, bn1, fc
// Both expect 32×32 inputs (the final 8×8 map is average-pooled; civet pools globally, which is
// the same at 32×32 and lets other sizes through).
import { Tensor, F } from '../tensor';
import { Module, StageInfo } from '../nn/module';
import { Conv2d, BatchNorm2d, ReLU, Identity, Sequential, Linear } from '../nn/layers';
import { registerModel, Classifier, ModelOptions } from './registry';
import { initCnn, numClassesOf } from './cnn_common';

const conv3x3 = (cin: number, cout: number, stride = 1) => new Conv2d(cin, cout, 3, { stride, padding: 1, bias: false });

/** RepDistiller's BasicBlock. `preact` taps the sum before the final ReLU (its `is_last` preact output). */
export class CifarBasicBlock extends Module {
  readonly conv1: Conv2d; readonly bn1: BatchNorm2d; readonly relu: ReLU;
  readonly conv2: Conv2d; readonly bn2: BatchNorm2d;
  readonly downsample: Sequential | null;
  readonly preact: Identity;
  constructor(inplanes: number, planes: number, stride = 1) {
    super();
    this.conv1 = this.module('conv1', conv3x3(inplanes, planes, stride));
    this.bn1 = this.module('bn1', new BatchNorm2d(planes));
    this.relu = this.module('relu', new ReLU());
    this.conv2 = this.module('conv2', conv3x3(planes, planes));
    this.bn2 = this.module('bn2', new BatchNorm2d(planes));
    this.downsample = this.module('downsample', stride !== 1 || inplanes !== planes
      ? new Sequential(new Conv2d(inplanes, planes, 1, { stride, bias: false }), new BatchNorm2d(planes)) : null);
    this.preact = this.module('preact', new Identity());
  }
  forward(x: Tensor): Tensor {
    let y = this.relu.call(this.bn1.call(this.conv1.call(x)));
    y = this.bn2.call(this.conv2.call(y));
    const shortcut = this.downsample ? this.downsample.call(x) : x;
    return F.relu(this.preact.call(y.add(shortcut)));
  }
}

/** RepDistiller's CIFAR ResNet: 3×3 stem (no max-pool), three groups of (depth-2)/6 BasicBlocks. */
export class CifarResNet extends Module implements Classifier {
  readonly numClasses: number;
  readonly numFeatures: number;
  readonly conv1: Conv2d; readonly bn1: BatchNorm2d; readonly relu: ReLU;
  readonly layers: Sequential[];
  readonly fc: Linear | null;
  private readonly dropRate: number;

  constructor(readonly depth: number, readonly numFilters: number[], o: ModelOptions = {}) {
    super();
    if ((depth - 2) % 6 !== 0) throw new RangeError(`CifarResNet: depth should be 6n+2 (e.g. 20, 32, 44, 56, 110), got ${depth}`);
    if (numFilters.length !== 4) throw new RangeError(`CifarResNet: numFilters needs 4 widths (stem and three groups), got [${numFilters}]`);
    const n = (depth - 2) / 6;
    this.numClasses = numClassesOf(o, 100);
    this.dropRate = o.dropRate ?? 0;
    this.conv1 = this.module('conv1', new Conv2d(o.inChans ?? 3, numFilters[0], 3, { padding: 1, bias: false }));
    this.bn1 = this.module('bn1', new BatchNorm2d(numFilters[0]));
    this.relu = this.module('relu', new ReLU());
    let inplanes = numFilters[0];
    this.layers = [1, 2, 3].map((g) => {
      const seq = new Sequential();
      for (let j = 0; j < n; j++) {
        seq.append(new CifarBasicBlock(inplanes, numFilters[g], j === 0 && g > 1 ? 2 : 1));
        inplanes = numFilters[g];
      }
      return this.module(`layer${g}`, seq);
    });
    this.numFeatures = inplanes;
    this.fc = this.module('fc', this.numClasses > 0 ? new Linear(inplanes, this.numClasses) : null);
    initCnn(this);
  }

  /** stem (RepDistiller's f0), then layer1..3 (f1..f3) with their pre-ReLU sums. */
  stages(): StageInfo[] {
    return [
      { name: 'relu', channels: this.numFilters[0], stride: 1, layout: 'map' },
      ...this.layers.map((l, i): StageInfo => ({
        name: `layer${i + 1}`, channels: this.numFilters[i + 1], stride: 2 ** i, layout: 'map', preact: `layer${i + 1}.${l.length - 1}.preact`,
      })),
    ];
  }
  forwardFeatures(x: Tensor): Tensor {
    let y = this.relu.call(this.bn1.call(this.conv1.call(x)));
    for (const l of this.layers) y = l.call(y);
    return y;
  }
  forwardHead(x: Tensor, preLogits = false): Tensor {
    let y = x.mean([2, 3]);
    if (this.dropRate > 0) y = F.dropout(y, this.dropRate, this.training);
    return preLogits || !this.fc ? y : this.fc.call(y);
  }
  forward(x: Tensor): Tensor { return this.forwardHead(this.forwardFeatures(x)); }
}

/** RepDistiller's pre-activation WRN block: BN-ReLU-conv3×3-BN-ReLU-(dropout)-conv3×3 + shortcut. */
export class WideBasicBlock extends Module {
  readonly bn1: BatchNorm2d; readonly relu1: ReLU; readonly conv1: Conv2d;
  readonly bn2: BatchNorm2d; readonly relu2: ReLU; readonly conv2: Conv2d;
  readonly convShortcut: Conv2d | null;
  readonly equalInOut: boolean;
  constructor(inPlanes: number, outPlanes: number, stride: number, readonly dropRate = 0) {
    super();
    this.bn1 = this.module('bn1', new BatchNorm2d(inPlanes));
    this.relu1 = this.module('relu1', new ReLU());
    this.conv1 = this.module('conv1', conv3x3(inPlanes, outPlanes, stride));
    this.bn2 = this.module('bn2', new BatchNorm2d(outPlanes));
    this.relu2 = this.module('relu2', new ReLU());
    this.conv2 = this.module('conv2', conv3x3(outPlanes, outPlanes));
    this.equalInOut = inPlanes === outPlanes;
    // As RepDistiller: the shortcut is the identity only when the widths agree (its blocks never
    // change the stride without changing the width).
    this.convShortcut = this.module('convShortcut', this.equalInOut ? null : new Conv2d(inPlanes, outPlanes, 1, { stride, bias: false }));
  }
  forward(x: Tensor): Tensor {
    const a = this.relu1.call(this.bn1.call(x));
    let y = this.relu2.call(this.bn2.call(this.conv1.call(a)));
    if (this.dropRate > 0) y = F.dropout(y, this.dropRate, this.training);
    y = this.conv2.call(y);
    // Unequal widths: the shortcut convolves the activated input; equal: the raw input.
    return (this.convShortcut ? this.convShortcut.call(a) : x).add(y);
  }
}

/** RepDistiller's NetworkBlock: children under `layer` (so names read block1.layer.0.conv1). */
export class NetworkBlock extends Module {
  readonly layer: Sequential;
  constructor(n: number, inPlanes: number, outPlanes: number, stride: number, dropRate = 0) {
    super();
    this.layer = this.module('layer', new Sequential(...Array.from({ length: n }, (_, i) =>
      new WideBasicBlock(i === 0 ? inPlanes : outPlanes, outPlanes, i === 0 ? stride : 1, dropRate))));
  }
  forward(x: Tensor): Tensor { return this.layer.call(x); }
}

/** WideResNet-depth-k (Zagoruyko & Komodakis 2016) in RepDistiller's layout. `dropRate` is the
 *  dropout between the two convs of each block, as in the original WRN. */
export class WideResNet extends Module implements Classifier {
  readonly numClasses: number;
  readonly numFeatures: number;
  readonly channels: number[];
  readonly conv1: Conv2d;
  readonly block1: NetworkBlock; readonly block2: NetworkBlock; readonly block3: NetworkBlock;
  readonly bn1: BatchNorm2d; readonly relu: ReLU;
  readonly fc: Linear | null;

  constructor(readonly depth: number, readonly widenFactor: number, o: ModelOptions = {}) {
    super();
    if ((depth - 4) % 6 !== 0) throw new RangeError(`WideResNet: depth should be 6n+4 (e.g. 16, 28, 40), got ${depth}`);
    const n = (depth - 4) / 6;
    const c = [16, 16 * widenFactor, 32 * widenFactor, 64 * widenFactor];
    this.channels = c;
    this.numClasses = numClassesOf(o, 100);
    const drop = o.dropRate ?? 0;
    this.conv1 = this.module('conv1', new Conv2d(o.inChans ?? 3, c[0], 3, { padding: 1, bias: false }));
    this.block1 = this.module('block1', new NetworkBlock(n, c[0], c[1], 1, drop));
    this.block2 = this.module('block2', new NetworkBlock(n, c[1], c[2], 2, drop));
    this.block3 = this.module('block3', new NetworkBlock(n, c[2], c[3], 2, drop));
    this.bn1 = this.module('bn1', new BatchNorm2d(c[3]));
    this.relu = this.module('relu', new ReLU());
    this.numFeatures = c[3];
    this.fc = this.module('fc', this.numClasses > 0 ? new Linear(c[3], this.numClasses) : null);
    initCnn(this, { zeroLinearBias: true });
  }

  /** conv1 (f0), then block1..3 (f1..f3). A WRN block's output is already pre-activation; the
   *  `preact` taps are the BatchNorms that follow each stage (RepDistiller's preact=True features:
   *  block2.layer.0.bn1, block3.layer.0.bn1, bn1). */
  stages(): StageInfo[] {
    const c = this.channels;
    return [
      { name: 'conv1', channels: c[0], stride: 1, layout: 'map' },
      { name: 'block1', channels: c[1], stride: 1, layout: 'map', preact: 'block2.layer.0.bn1' },
      { name: 'block2', channels: c[2], stride: 2, layout: 'map', preact: 'block3.layer.0.bn1' },
      { name: 'block3', channels: c[3], stride: 4, layout: 'map', preact: 'bn1' },
    ];
  }
  /** The activated last feature map relu(bn1(block3)) [N, C, H/4, W/4]. */
  forwardFeatures(x: Tensor): Tensor {
    const y = this.block3.call(this.block2.call(this.block1.call(this.conv1.call(x))));
    return this.relu.call(this.bn1.call(y));
  }
  forwardHead(x: Tensor, preLogits = false): Tensor {
    const y = x.mean([2, 3]);
    return preLogits || !this.fc ? y : this.fc.call(y);
  }
  forward(x: Tensor): Tensor { return this.forwardHead(this.forwardFeatures(x)); }
}

// ---- registry ---------------------------------------------------------------------------------
/** Parameter counts at 100 classes (CIFAR-100, the benchmark's setting), counted with PyTorch 1.13 on
 *  RepDistiller's definitions (they agree with the CRD paper's table: resnet32x4 7.43M, resnet8x4
 *  1.23M, wrn_40_2 2.26M, wrn_16_2 0.70M). Not in `publishedParams`, which is at 1000 classes. */
export const CIFAR_PARAMS_AT_100: Readonly<Record<string, number>> = Object.freeze({
  resnet8: 83_892, resnet14: 181_108, resnet20: 278_324, resnet32: 472_756, resnet44: 667_188,
  resnet56: 861_620, resnet110: 1_736_564, resnet8x4: 1_233_540, resnet32x4: 7_433_860,
  wrn_16_1: 180_916, wrn_16_2: 703_284, wrn_40_1: 569_780, wrn_40_2: 2_255_156,
});

const CIFAR_RESNETS: [string, number, number[]][] = [
  ['resnet8', 8, [16, 16, 32, 64]],
  ['resnet14', 14, [16, 16, 32, 64]],
  ['resnet20', 20, [16, 16, 32, 64]],
  ['resnet32', 32, [16, 16, 32, 64]],
  ['resnet44', 44, [16, 16, 32, 64]],
  ['resnet56', 56, [16, 16, 32, 64]],
  ['resnet110', 110, [16, 16, 32, 64]],
  ['resnet8x4', 8, [32, 64, 128, 256]],
  ['resnet32x4', 32, [32, 64, 128, 256]],
];
for (const [name, depth, filters] of CIFAR_RESNETS) {
  registerModel({
    name, family: 'cifar_resnet',
    description: `RepDistiller ${name} (CIFAR, 32×32; default 100 classes)`,
    create: (o) => new CifarResNet(depth, filters, o),
  });
}
const WRNS: [string, number, number][] = [['wrn_16_1', 16, 1], ['wrn_16_2', 16, 2], ['wrn_40_1', 40, 1], ['wrn_40_2', 40, 2]];
for (const [name, depth, k] of WRNS) {
  registerModel({
    name, family: 'wrn',
    description: `RepDistiller ${name} (CIFAR, 32×32; default 100 classes)`,
    create: (o) => new WideResNet(depth, k, o),
  });
}

// ResNet-18/34/50 with the ImageNet stem (He et al. 2016, torchvision's "v1.5": the stride of a
// Bottleneck sits on its 3×3 conv). State-dict names are timm's, which torchvision shares:
// conv1, bn1, layer1..4.N.{conv1,bn1,conv2,bn2,conv3,bn3,downsample.0,downsample.1}, fc.
import { Tensor, F } from '../tensor';
import { Module, StageInfo } from '../nn/module';
import { Conv2d, BatchNorm2d, ReLU, Identity, MaxPool2d, Sequential, DropPath, Linear } from '../nn/layers';
import { registerModel, Classifier, ModelOptions } from './registry';
import { initCnn, zeroGamma, dropPathRates, numClassesOf } from './cnn_common';

const conv3x3 = (cin: number, cout: number, stride = 1) => new Conv2d(cin, cout, 3, { stride, padding: 1, bias: false });
const conv1x1 = (cin: number, cout: number, stride = 1) => new Conv2d(cin, cout, 1, { stride, bias: false });

function downsample(cin: number, cout: number, stride: number): Sequential {
  return new Sequential(conv1x1(cin, cout, stride), new BatchNorm2d(cout));
}

/** Two 3×3 convs. The sum before the last ReLU passes through `preact` (an identity tap point). */
export class BasicBlock extends Module {
  static readonly expansion = 1;
  readonly conv1: Conv2d; readonly bn1: BatchNorm2d; readonly act1: ReLU;
  readonly conv2: Conv2d; readonly bn2: BatchNorm2d;
  readonly downsample: Sequential | null;
  readonly drop_path: DropPath | null;
  readonly preact: Identity; readonly act2: ReLU;
  constructor(inplanes: number, planes: number, stride = 1, dropPath = 0) {
    super();
    this.conv1 = this.module('conv1', conv3x3(inplanes, planes, stride));
    this.bn1 = this.module('bn1', new BatchNorm2d(planes));
    this.act1 = this.module('act1', new ReLU());
    this.conv2 = this.module('conv2', conv3x3(planes, planes));
    this.bn2 = this.module('bn2', new BatchNorm2d(planes));
    this.downsample = this.module('downsample', stride !== 1 || inplanes !== planes ? downsample(inplanes, planes, stride) : null);
    this.drop_path = this.module('drop_path', dropPath > 0 ? new DropPath(dropPath) : null);
    this.preact = this.module('preact', new Identity());
    this.act2 = this.module('act2', new ReLU());
  }
  get lastBn(): BatchNorm2d { return this.bn2; }
  forward(x: Tensor): Tensor {
    let y = this.act1.call(this.bn1.call(this.conv1.call(x)));
    y = this.bn2.call(this.conv2.call(y));
    if (this.drop_path) y = this.drop_path.call(y);
    const shortcut = this.downsample ? this.downsample.call(x) : x;
    return this.act2.call(this.preact.call(y.add(shortcut)));
  }
}

/** 1×1 → 3×3 (stride here) → 1×1 expanding by 4. */
export class Bottleneck extends Module {
  static readonly expansion = 4;
  readonly conv1: Conv2d; readonly bn1: BatchNorm2d; readonly act1: ReLU;
  readonly conv2: Conv2d; readonly bn2: BatchNorm2d; readonly act2: ReLU;
  readonly conv3: Conv2d; readonly bn3: BatchNorm2d;
  readonly downsample: Sequential | null;
  readonly drop_path: DropPath | null;
  readonly preact: Identity; readonly act3: ReLU;
  constructor(inplanes: number, planes: number, stride = 1, dropPath = 0) {
    super();
    const out = planes * Bottleneck.expansion;
    this.conv1 = this.module('conv1', conv1x1(inplanes, planes));
    this.bn1 = this.module('bn1', new BatchNorm2d(planes));
    this.act1 = this.module('act1', new ReLU());
    this.conv2 = this.module('conv2', conv3x3(planes, planes, stride));
    this.bn2 = this.module('bn2', new BatchNorm2d(planes));
    this.act2 = this.module('act2', new ReLU());
    this.conv3 = this.module('conv3', conv1x1(planes, out));
    this.bn3 = this.module('bn3', new BatchNorm2d(out));
    this.downsample = this.module('downsample', stride !== 1 || inplanes !== out ? downsample(inplanes, out, stride) : null);
    this.drop_path = this.module('drop_path', dropPath > 0 ? new DropPath(dropPath) : null);
    this.preact = this.module('preact', new Identity());
    this.act3 = this.module('act3', new ReLU());
  }
  get lastBn(): BatchNorm2d { return this.bn3; }
  forward(x: Tensor): Tensor {
    let y = this.act1.call(this.bn1.call(this.conv1.call(x)));
    y = this.act2.call(this.bn2.call(this.conv2.call(y)));
    y = this.bn3.call(this.conv3.call(y));
    if (this.drop_path) y = this.drop_path.call(y);
    const shortcut = this.downsample ? this.downsample.call(x) : x;
    return this.act3.call(this.preact.call(y.add(shortcut)));
  }
}

export interface ResNetOptions extends ModelOptions {
  /** zero-init the last BN gamma of every block (torchvision's zero_init_residual; default false) */
  zeroInitResidual?: boolean;
}

/** ResNet with the ImageNet stem (7×7/2 conv, 3×3/2 max-pool); forward → logits [N, numClasses]. */
export class ResNet extends Module implements Classifier {
  readonly numClasses: number;
  readonly numFeatures: number;
  readonly conv1: Conv2d; readonly bn1: BatchNorm2d; readonly act1: ReLU; readonly maxpool: MaxPool2d;
  readonly layers: Sequential[];
  readonly fc: Linear | null;
  private readonly dropRate: number;
  private readonly widths: number[];

  constructor(readonly block: 'basic' | 'bottleneck', readonly depths: number[], o: ResNetOptions = {}) {
    super();
    this.numClasses = numClassesOf(o, 1000);
    this.dropRate = o.dropRate ?? 0;
    const Block = block === 'basic' ? BasicBlock : Bottleneck;
    this.conv1 = this.module('conv1', new Conv2d(o.inChans ?? 3, 64, 7, { stride: 2, padding: 3, bias: false }));
    this.bn1 = this.module('bn1', new BatchNorm2d(64));
    this.act1 = this.module('act1', new ReLU());
    this.maxpool = this.module('maxpool', new MaxPool2d(3, 2, 1));
    const dpr = dropPathRates(depths, o.dropPathRate ?? 0);
    let inplanes = 64;
    this.widths = [];
    this.layers = depths.map((n, i) => {
      const planes = 64 * 2 ** i;
      const seq = new Sequential();
      for (let j = 0; j < n; j++) {
        seq.append(new Block(inplanes, planes, j === 0 && i > 0 ? 2 : 1, dpr[i][j]));
        inplanes = planes * Block.expansion;
      }
      this.widths.push(inplanes);
      return this.module(`layer${i + 1}`, seq);
    });
    this.numFeatures = inplanes;
    this.fc = this.module('fc', this.numClasses > 0 ? new Linear(inplanes, this.numClasses) : null);
    initCnn(this);
    if (o.zeroInitResidual) for (const l of this.layers) for (const b of l) zeroGamma((b as BasicBlock | Bottleneck).lastBn);
  }

  stages(): StageInfo[] {
    return [
      { name: 'act1', channels: 64, stride: 2, layout: 'map' },
      ...this.layers.map((l, i): StageInfo => ({
        name: `layer${i + 1}`, channels: this.widths[i], stride: 4 * 2 ** i, layout: 'map', preact: `layer${i + 1}.${l.length - 1}.preact`,
      })),
    ];
  }

  /** The last stage's feature map [N, numFeatures, H/32, W/32]. */
  forwardFeatures(x: Tensor): Tensor {
    let y = this.maxpool.call(this.act1.call(this.bn1.call(this.conv1.call(x))));
    for (const l of this.layers) y = l.call(y);
    return y;
  }
  /** Global pooling, dropout and the classifier; preLogits returns the pooled features [N, numFeatures]. */
  forwardHead(x: Tensor, preLogits = false): Tensor {
    let y = x.mean([2, 3]);
    if (this.dropRate > 0) y = F.dropout(y, this.dropRate, this.training);
    return preLogits || !this.fc ? y : this.fc.call(y);
  }
  forward(x: Tensor): Tensor { return this.forwardHead(this.forwardFeatures(x)); }
}

const RESNETS: [string, 'basic' | 'bottleneck', number[], number][] = [
  ['resnet18', 'basic', [2, 2, 2, 2], 11_689_512],
  ['resnet34', 'basic', [3, 4, 6, 3], 21_797_672],
  ['resnet50', 'bottleneck', [3, 4, 6, 3], 25_557_032],
];
for (const [name, block, depths, params] of RESNETS) {
  registerModel({
    name, family: 'resnet', publishedParams: params,
    description: `${name} (ImageNet stem; timm/torchvision state-dict names)`,
    create: (o) => new ResNet(block, depths, o as ResNetOptions),
  });
}

// ---- torchvision / timm checkpoint names (interop/torchvision.ts picks the converter by prefix) ----
import { registerConverter, renameAll } from '../interop/torchvision';
const RESNET_KEY = /^(conv1|bn1|fc|layer\d+\.\d+\.(conv\d|bn\d|downsample\.[01]))\.(weight|bias|running_mean|running_var|num_batches_tracked)$/;
/** torchvision ResNet → timm ResNet: the same names (checked, so a wrong architecture fails early). */
export function convertResNet<V>(sd: Map<string, V>, arch = 'resnet'): Map<string, V> {
  return renameAll(sd, arch, (k) => (RESNET_KEY.test(k) ? k : null));
}
registerConverter('resnet', convertResNet);

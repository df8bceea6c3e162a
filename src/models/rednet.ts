// RedNet (Li et al., CVPR 2021): ResNet with the 3×3 convs of the bottlenecks replaced by 7×7
// involutions and an involution in the deep stem (d-li14/involution, cls/mmcls/models/backbones/rednet.py).
//
// Layout ("pytorch" style, stride on the middle op), per d-li14/involution cls/mmcls/models/backbones/rednet.py:
//   stem: ConvModule 3→32 3×3/2, involution(32, 3, 1), BN, ReLU, ConvModule 32→64 3×3  (stem.0 … stem.4)
//   maxpool 3×3/2; layer1..4 of RedBottlenecks (out 256, 512, 1024, 2048; strides 1, 2, 2, 2);
//   global average pool; head.fc.
// State-dict names are mmcls's with the `backbone.` prefix dropped: stem.0.conv, stem.1.conv1.conv,
// layer1.0.{conv1,bn1,conv2.*,bn2,conv3,bn3,downsample.0,downsample.1}, head.fc. An official
// checkpoint loads after stripping `backbone.` (convertStateDict('rednet', …) in src/interop/torchvision.ts).
//
// shared/reference/torch_bench.py's rednet26 (the civt-step teacher) is this same layout under other
// module names: 7,204,656 parameters at 10 classes, 9,233,166 at 1000 (the paper's 9.23M). At 32×32
// inputs the stages shrink to 8, 8, 4, 2, 1 pixels; no separate CIFAR stem is needed or provided.
import { Tensor } from '../tensor';
import { Module, StageInfo } from '../nn/module';
import { Conv2d, BatchNorm2d, ReLU, Identity, MaxPool2d, Sequential, DropPath, Involution2d } from '../nn/layers';
import { registerModel, Classifier, ModelOptions } from './registry';
import { ConvNormAct, ClassifierHead, initCnn, zeroGamma, dropPathRates, numClassesOf } from './cnn_common';

/** mmcls ResNet Bottleneck with conv2 = involution(mid, 7, stride). */
export class RedBottleneck extends Module {
  static readonly expansion = 4;
  readonly conv1: Conv2d; readonly bn1: BatchNorm2d; readonly act1: ReLU;
  readonly conv2: Involution2d; readonly bn2: BatchNorm2d; readonly act2: ReLU;
  readonly conv3: Conv2d; readonly bn3: BatchNorm2d;
  readonly downsample: Sequential | null;
  readonly drop_path: DropPath | null;
  readonly preact: Identity; readonly act3: ReLU;
  constructor(inChannels: number, outChannels: number, stride = 1, o: { kernelSize?: number; dropPath?: number } = {}) {
    super();
    const mid = outChannels / RedBottleneck.expansion;
    this.conv1 = this.module('conv1', new Conv2d(inChannels, mid, 1, { bias: false }));
    this.bn1 = this.module('bn1', new BatchNorm2d(mid));
    this.act1 = this.module('act1', new ReLU());
    this.conv2 = this.module('conv2', new Involution2d(mid, o.kernelSize ?? 7, { stride }));
    this.bn2 = this.module('bn2', new BatchNorm2d(mid));
    this.act2 = this.module('act2', new ReLU());
    this.conv3 = this.module('conv3', new Conv2d(mid, outChannels, 1, { bias: false }));
    this.bn3 = this.module('bn3', new BatchNorm2d(outChannels));
    this.downsample = this.module('downsample', stride !== 1 || inChannels !== outChannels
      ? new Sequential(new Conv2d(inChannels, outChannels, 1, { stride, bias: false }), new BatchNorm2d(outChannels)) : null);
    this.drop_path = this.module('drop_path', (o.dropPath ?? 0) > 0 ? new DropPath(o.dropPath) : null);
    this.preact = this.module('preact', new Identity());
    this.act3 = this.module('act3', new ReLU());
  }
  forward(x: Tensor): Tensor {
    let y = this.act1.call(this.bn1.call(this.conv1.call(x)));
    y = this.act2.call(this.bn2.call(this.conv2.call(y)));
    y = this.bn3.call(this.conv3.call(y));
    if (this.drop_path) y = this.drop_path.call(y);
    const shortcut = this.downsample ? this.downsample.call(x) : x;
    return this.act3.call(this.preact.call(y.add(shortcut)));
  }
}

/** mmcls RedNet's deep stem (Co-advise's involution embedding uses it too): 3×3/2 conv-BN-ReLU to
 *  stemChannels/2, involution(·, 3, 1), BN, ReLU, 3×3 conv-BN-ReLU to stemChannels. */
export function rednetStem(inChans = 3, stemChannels = 64): Sequential {
  const half = stemChannels / 2;
  return new Sequential(
    new ConvNormAct(inChans, half, 3, { stride: 2 }),
    new Involution2d(half, 3, { stride: 1 }),
    new BatchNorm2d(half),
    new ReLU(),
    new ConvNormAct(half, stemChannels, 3),
  );
}

export interface RedNetOptions extends ModelOptions {
  /** zero-init bn3 of every bottleneck (mmcls zero_init_residual; default true as in the RedNet configs) */
  zeroInitResidual?: boolean;
  /** stem width (default 64, RedNet's); stage widths are 4·baseWidth·2^i. A multiple of 32, so
   *  every involution keeps whole 16-channel groups; below 64 it is a slimmer RedNet, not the published one. */
  baseWidth?: number;
}

export const REDNET_DEPTHS: Readonly<Record<number, number[]>> = Object.freeze({
  26: [1, 2, 4, 1], 38: [2, 3, 5, 2], 50: [3, 4, 6, 3], 101: [3, 4, 23, 3], 152: [3, 8, 36, 3],
});

export class RedNet extends Module implements Classifier {
  readonly numClasses: number;
  readonly numFeatures: number;
  readonly stem: Sequential;
  readonly maxpool: MaxPool2d;
  readonly layers: Sequential[];
  readonly head: ClassifierHead;
  private readonly widths: number[] = [];
  private readonly stemChannels: number;

  constructor(readonly depth: number, o: RedNetOptions = {}) {
    super();
    const depths = REDNET_DEPTHS[depth];
    if (!depths) throw new RangeError(`RedNet: depth must be one of ${Object.keys(REDNET_DEPTHS).join(', ')}, got ${depth}`);
    this.numClasses = numClassesOf(o, 1000);
    const base = o.baseWidth ?? 64;
    if (!Number.isInteger(base) || base <= 0 || base % 32 !== 0) throw new RangeError(`RedNet: baseWidth must be a positive multiple of 32, got ${base}`);
    this.stemChannels = base;
    this.stem = this.module('stem', rednetStem(o.inChans ?? 3, base));
    this.maxpool = this.module('maxpool', new MaxPool2d(3, 2, 1));
    const dpr = dropPathRates(depths, o.dropPathRate ?? 0);
    let cin = base;
    this.layers = depths.map((n, i) => {
      const cout = 4 * base * 2 ** i;
      const seq = new Sequential();
      for (let j = 0; j < n; j++) {
        seq.append(new RedBottleneck(cin, cout, j === 0 && i > 0 ? 2 : 1, { dropPath: dpr[i][j] }));
        cin = cout;
      }
      this.widths.push(cout);
      return this.module(`layer${i + 1}`, seq);
    });
    this.numFeatures = cin;
    this.head = this.module('head', new ClassifierHead(cin, this.numClasses, o.dropRate ?? 0));
    // mmcls: kaiming_init (normal, fan_out, relu, bias 0) for every conv, BN 1/0, LinearClsHead N(0, 0.01).
    initCnn(this, { zeroConvBias: true, linearStd: 0.01 });
    if (o.zeroInitResidual ?? true) for (const l of this.layers) for (const b of l) zeroGamma((b as RedBottleneck).bn3);
  }

  stages(): StageInfo[] {
    return [
      { name: 'stem', channels: this.stemChannels, stride: 2, layout: 'map' },
      ...this.layers.map((l, i): StageInfo => ({
        name: `layer${i + 1}`, channels: this.widths[i], stride: 4 * 2 ** i, layout: 'map', preact: `layer${i + 1}.${l.length - 1}.preact`,
      })),
    ];
  }
  forwardFeatures(x: Tensor): Tensor {
    let y = this.maxpool.call(this.stem.call(x));
    for (const l of this.layers) y = l.call(y);
    return y;
  }
  forwardHead(x: Tensor, preLogits = false): Tensor { return this.head.call(x, preLogits); }
  forward(x: Tensor): Tensor { return this.forwardHead(this.forwardFeatures(x)); }
}

for (const [depth, params] of [[26, 9_233_166], [38, 12_386_986], [50, 15_540_806], [101, 25_652_950]] as const) {
  registerModel({
    name: `rednet${depth}`, family: 'rednet', publishedParams: params,
    description: `RedNet-${depth} (involution; mmcls names without "backbone."; published ${(params / 1e6).toFixed(2)}M)`,
    create: (o) => new RedNet(depth, o as RedNetOptions),
  });
}

// ---- torchvision / timm checkpoint names (interop/torchvision.ts picks the converter by prefix) ----
import { registerConverter, renameAll } from '../interop/torchvision';
/** mmcls RedNet checkpoints (backbone.* + head.fc.*) → civet RedNet; civet-named keys pass through. */
export function convertRedNet<V>(sd: Map<string, V>, arch = 'rednet'): Map<string, V> {
  return renameAll(sd, arch, (k) => (k.startsWith('backbone.') ? k.slice('backbone.'.length) : k));
}
registerConverter('rednet', convertRedNet);

// RegNetY (Radosavovic et al., "Designing Network Design Spaces", CVPR 2020) as timm builds it:
// widths from the linear-quantised design rule (w0, wa, wm, depth), group width, bottleneck ratio 1,
// squeeze-excitation with 0.25 × the block's input width. State-dict names are timm's:
//   stem.conv/bn, s1..s4.bN.{conv1,conv2,conv3}.{conv,bn}, sN.bM.se.fc1/fc2, sN.b1.downsample.conv/bn, head.fc
// torchvision's regnet_y_* weights load through src/interop/torchvision.ts (same architecture
// where torchvision's width rule agrees with timm's: 400mf, 600mf; not 4gf, see regnetWidths).
import { Tensor, F } from '../tensor';
import { Module, StageInfo } from '../nn/module';
import { Conv2d, ReLU, Identity, Sequential, DropPath } from '../nn/layers';
import { registerModel, Classifier, ModelOptions } from './registry';
import { ConvNormAct, ClassifierHead, initCnn, zeroGamma, roundHalfEven, dropPathRates, numClassesOf } from './cnn_common';

export interface RegNetCfg {
  w0: number;
  wa: number;
  wm: number;
  depth: number;
  groupSize: number;
  bottleRatio?: number;
  seRatio?: number;
  stemWidth?: number;
}

export interface RegNetStages { widths: number[]; depths: number[]; groupSizes: number[] }

/** timm's generate_regnet + adjust_widths_groups_comp (group_min_ratio 0): per-block widths
 *  w0 + i·wa snapped to w0·wm^round(log_wm(w/w0)) and to multiples of 8, grouped into stages of equal
 *  width, then each stage width rounded (half to even, as Python) to a multiple of its group size.
 *  torchvision rounds up to the next multiple when that loses more than 10% (make_divisible), which
 *  changes RegNetY-4GF's second stage (timm 192, torchvision 256) and nothing in 200MF–600MF. */
export function regnetWidths(cfg: RegNetCfg, quant = 8): RegNetStages {
  const { w0, wa, wm, depth, groupSize } = cfg;
  const br = cfg.bottleRatio ?? 1;
  if (!(wa >= 0 && w0 > 0 && wm > 1 && w0 % quant === 0)) throw new RangeError(`regnetWidths: need wa >= 0, w0 > 0, wm > 1, w0 % ${quant} == 0 (got w0=${w0}, wa=${wa}, wm=${wm})`);
  const blockWidths: number[] = [];
  for (let i = 0; i < depth; i++) {
    const cont = i * wa + w0;
    const e = roundHalfEven(Math.log(cont / w0) / Math.log(wm));
    blockWidths.push(roundHalfEven((w0 * wm ** e) / quant) * quant);
  }
  // np.unique(widths, return_counts=True): sorted distinct widths (block widths never decrease).
  const widths: number[] = [];
  const depths: number[] = [];
  for (const w of blockWidths) {
    if (widths.length && widths[widths.length - 1] === w) depths[depths.length - 1]++;
    else { widths.push(w); depths.push(1); }
  }
  const bott = widths.map((w) => Math.trunc(w * br));
  const groupSizes = bott.map((b) => Math.min(groupSize, b));
  const bq = bott.map((b, i) => Math.trunc(roundHalfEven(b / groupSizes[i]) * groupSizes[i]));
  return { widths: bq.map((b) => Math.trunc(b / br)), depths, groupSizes };
}

/** Squeeze-and-excitation with 1×1 convs `fc1`, `fc2` (biases), ReLU and a sigmoid gate. */
export class SqueezeExcite extends Module {
  readonly fc1: Conv2d; readonly act: ReLU; readonly fc2: Conv2d;
  constructor(channels: number, rdChannels: number) {
    super();
    this.fc1 = this.module('fc1', new Conv2d(channels, rdChannels, 1));
    this.act = this.module('act', new ReLU());
    this.fc2 = this.module('fc2', new Conv2d(rdChannels, channels, 1));
  }
  forward(x: Tensor): Tensor {
    const s = x.mean([2, 3], true);
    return x.mul(F.sigmoid(this.fc2.call(this.act.call(this.fc1.call(s)))));
  }
}

/** RegNet's X/Y block: 1×1 → grouped 3×3 (stride) → SE → 1×1 (no act) + shortcut → ReLU. */
export class RegBottleneck extends Module {
  readonly conv1: ConvNormAct; readonly conv2: ConvNormAct;
  readonly se: SqueezeExcite | null;
  readonly conv3: ConvNormAct;
  readonly downsample: ConvNormAct | null;
  readonly drop_path: DropPath | null;
  readonly preact: Identity; readonly act3: ReLU;
  constructor(inChs: number, outChs: number, stride: number, o: { bottleRatio?: number; groupSize: number; seRatio?: number; dropPath?: number }) {
    super();
    const bott = roundHalfEven(outChs * (o.bottleRatio ?? 1));
    const groups = Math.floor(bott / o.groupSize);
    const se = o.seRatio ?? 0.25;
    this.conv1 = this.module('conv1', new ConvNormAct(inChs, bott, 1));
    this.conv2 = this.module('conv2', new ConvNormAct(bott, bott, 3, { stride, groups }));
    this.se = this.module('se', se > 0 ? new SqueezeExcite(bott, roundHalfEven(inChs * se)) : null);
    this.conv3 = this.module('conv3', new ConvNormAct(bott, outChs, 1, { act: false }));
    this.downsample = this.module('downsample', inChs !== outChs || stride !== 1 ? new ConvNormAct(inChs, outChs, 1, { stride, act: false }) : null);
    this.drop_path = this.module('drop_path', (o.dropPath ?? 0) > 0 ? new DropPath(o.dropPath) : null);
    this.preact = this.module('preact', new Identity());
    this.act3 = this.module('act3', new ReLU());
  }
  forward(x: Tensor): Tensor {
    let y = this.conv2.call(this.conv1.call(x));
    if (this.se) y = this.se.call(y);
    y = this.conv3.call(y);
    if (this.drop_path) y = this.drop_path.call(y);
    const shortcut = this.downsample ? this.downsample.call(x) : x;
    return this.act3.call(this.preact.call(y.add(shortcut)));
  }
}

/** A stage: blocks b1..bN, the first with stride 2. */
export class RegStage extends Module {
  readonly blocks: RegBottleneck[] = [];
  constructor(inChs: number, outChs: number, depth: number, o: { bottleRatio?: number; groupSize: number; seRatio?: number; dropPaths?: number[] }) {
    super();
    for (let i = 0; i < depth; i++) {
      this.blocks.push(this.module(`b${i + 1}`, new RegBottleneck(i === 0 ? inChs : outChs, outChs, i === 0 ? 2 : 1, { ...o, dropPath: o.dropPaths?.[i] })));
    }
  }
  forward(x: Tensor): Tensor {
    let y = x;
    for (const b of this.blocks) y = b.call(y);
    return y;
  }
}

export interface RegNetOptions extends ModelOptions {
  /** zero-init the last BN gamma of every block (timm's zero_init_last; default true) */
  zeroInitLast?: boolean;
}

export class RegNet extends Module implements Classifier {
  readonly numClasses: number;
  readonly numFeatures: number;
  readonly stem: ConvNormAct;
  readonly stageModules: RegStage[];
  readonly head: ClassifierHead;
  readonly plan: RegNetStages;
  readonly stemWidth: number;

  constructor(readonly cfg: RegNetCfg, o: RegNetOptions = {}) {
    super();
    this.numClasses = numClassesOf(o, 1000);
    this.stemWidth = cfg.stemWidth ?? 32;
    this.stem = this.module('stem', new ConvNormAct(o.inChans ?? 3, this.stemWidth, 3, { stride: 2 }));
    this.plan = regnetWidths(cfg);
    const dpr = dropPathRates(this.plan.depths, o.dropPathRate ?? 0);
    let prev = this.stemWidth;
    this.stageModules = this.plan.widths.map((w, i) => {
      const s = this.module(`s${i + 1}`, new RegStage(prev, w, this.plan.depths[i], {
        bottleRatio: cfg.bottleRatio, groupSize: this.plan.groupSizes[i], seRatio: cfg.seRatio ?? 0.25, dropPaths: dpr[i],
      }));
      prev = w;
      return s;
    });
    this.numFeatures = prev;
    this.head = this.module('head', new ClassifierHead(prev, this.numClasses, o.dropRate ?? 0));
    initCnn(this, { fanOut: 'timm', zeroConvBias: true, linearStd: 0.01 });
    if (o.zeroInitLast ?? true) for (const s of this.stageModules) for (const b of s.blocks) zeroGamma(b.conv3.bn);
  }

  stages(): StageInfo[] {
    return [
      { name: 'stem', channels: this.stemWidth, stride: 2, layout: 'map' },
      ...this.stageModules.map((s, i): StageInfo => ({
        name: `s${i + 1}`, channels: this.plan.widths[i], stride: 4 * 2 ** i, layout: 'map', preact: `s${i + 1}.b${s.blocks.length}.preact`,
      })),
    ];
  }
  forwardFeatures(x: Tensor): Tensor {
    let y = this.stem.call(x);
    for (const s of this.stageModules) y = s.call(y);
    return y;
  }
  forwardHead(x: Tensor, preLogits = false): Tensor { return this.head.call(x, preLogits); }
  forward(x: Tensor): Tensor { return this.forwardHead(this.forwardFeatures(x)); }
}

/** timm's regnety_* configurations (se_ratio 0.25, bottle_ratio 1, stem 32). */
export const REGNETY_CFGS: Readonly<Record<string, RegNetCfg>> = Object.freeze({
  regnety_200mf: { w0: 24, wa: 36.44, wm: 2.49, groupSize: 8, depth: 13 },
  regnety_400mf: { w0: 48, wa: 27.89, wm: 2.09, groupSize: 8, depth: 16 },
  regnety_600mf: { w0: 48, wa: 32.54, wm: 2.32, groupSize: 16, depth: 15 },
  regnety_4gf: { w0: 96, wa: 31.41, wm: 2.24, groupSize: 64, depth: 22 },
});
// Counted with PyTorch on the same widths (torchvision's RegNet blocks): 200MF 3.16M, 400MF 4.34M
// (= torchvision regnet_y_400mf), 600MF 6.06M (= torchvision regnet_y_600mf), 4GF 20.65M (timm regnety_040).
const REGNETY_PARAMS: Record<string, number> = {
  regnety_200mf: 3_162_996, regnety_400mf: 4_344_144, regnety_600mf: 6_055_160, regnety_4gf: 20_646_656,
};
const TIMM_NAMES: Record<string, string> = { regnety_200mf: 'regnety_002', regnety_400mf: 'regnety_004', regnety_600mf: 'regnety_006', regnety_4gf: 'regnety_040' };
for (const [name, cfg] of Object.entries(REGNETY_CFGS)) {
  registerModel({
    name, family: 'regnet', publishedParams: REGNETY_PARAMS[name],
    description: `RegNetY ${name.slice(8).toUpperCase()} (timm ${TIMM_NAMES[name]} layout and names)`,
    create: (o) => new RegNet({ ...cfg, seRatio: 0.25, bottleRatio: 1 }, o as RegNetOptions),
  });
}

// ---- torchvision / timm checkpoint names (interop/torchvision.ts picks the converter by prefix) ----
import { registerConverter, renameAll } from '../interop/torchvision';
const REGNET_BLOCK = /^trunk_output\.block(\d+)\.block\d+-(\d+)\.(.+)$/;
const REGNET_PARTS: [RegExp, string][] = [
  [/^proj\.0\./, 'downsample.conv.'],
  [/^proj\.1\./, 'downsample.bn.'],
  [/^f\.a\.0\./, 'conv1.conv.'],
  [/^f\.a\.1\./, 'conv1.bn.'],
  [/^f\.b\.0\./, 'conv2.conv.'],
  [/^f\.b\.1\./, 'conv2.bn.'],
  [/^f\.se\.fc1\./, 'se.fc1.'],
  [/^f\.se\.fc2\./, 'se.fc2.'],
  [/^f\.c\.0\./, 'conv3.conv.'],
  [/^f\.c\.1\./, 'conv3.bn.'],
];
const PARAM_SUFFIX = /^(weight|bias|running_mean|running_var|num_batches_tracked)$/;

/** civet/timm name of one torchvision RegNet key, or null. */
export function torchvisionRegNetKey(k: string): string | null {
  let m: RegExpExecArray | null;
  if ((m = /^stem\.([01])\.(.+)$/.exec(k))) return PARAM_SUFFIX.test(m[2]) ? `stem.${m[1] === '0' ? 'conv' : 'bn'}.${m[2]}` : null;
  if ((m = /^fc\.(weight|bias)$/.exec(k))) return `head.fc.${m[1]}`;
  if ((m = REGNET_BLOCK.exec(k))) {
    for (const [re, to] of REGNET_PARTS) {
      if (re.test(m[3])) {
        const rest = m[3].replace(re, '');
        return PARAM_SUFFIX.test(rest) ? `s${m[1]}.b${Number(m[2]) + 1}.${to}${rest}` : null;
      }
    }
  }
  return null;
}

/** torchvision RegNet (X or Y) → timm RegNet names. */
export function convertRegNet<V>(sd: Map<string, V>, arch = 'regnet'): Map<string, V> {
  return renameAll(sd, arch, torchvisionRegNetKey);
}
registerConverter('regnet_y_', convertRegNet);
registerConverter('regnety_', convertRegNet);

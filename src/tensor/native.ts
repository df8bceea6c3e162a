// Loads civet's Node-API addon (native/). Everything native goes through this one object.
import * as path from 'node:path';
import * as fs from 'node:fs';

export type Handle = { readonly __civetHandle: unique symbol };

function load(): NativeAddon {
  const root = path.resolve(__dirname, '..', '..', '..');
  const candidates = [
    process.env.CIVET_ADDON,
    path.join(root, 'native', 'build', 'Release', 'civet.node'),
    path.join(root, 'native', 'build', 'Debug', 'civet.node'),
  ].filter((p): p is string => !!p);
  for (const file of candidates) {
    if (fs.existsSync(file)) return require(file);
  }
  throw new Error(
    `civet's native addon is not built (looked for ${candidates.join(', ')}). ` +
      'Run `bash scripts/setup.sh` (or `npm run build:native` once libtorch-dev is installed).',
  );
}

/** A value the addon gets and returns: a tensor handle, or a plain scalar. */
export type Scalar = number | boolean;
export type Reduction = 'none' | 'mean' | 'sum';
/** An at::Generator owned by the addon (freed by the garbage collector). */
export type GeneratorHandle = { readonly __civetGenerator: unique symbol };
/** A loaded TorchScript module owned by the addon. */
export type ScriptModuleHandle = { readonly __civetScriptModule: unique symbol };
/** What a TorchScript forward returns: tensors, numbers, booleans, nothing, or lists of them. */
export type IValue = Handle | number | boolean | undefined | IValue[];

/**
 * The addon's surface (native/src/*.cc: the Export lists of core.cc, ops.cc, nn.cc, jit.cc), so tsc
 * checks every native call. Dtypes travel as their codes (dtype.ts), devices as strings.
 */
export interface NativeAddon {
  unaryOps: string[];
  binaryOps: string[];
unary(a: Handle, op: number): Handle;
  binary(a: Handle | Scalar, b: Handle | Scalar, op: number, alpha?: Scalar | null): Handle;
  // multi-tensor optimizer kernels (native/src/foreach.cc: at::_foreach_*; in place unless they return)
  foreachAdd_(self: Handle[], other: Handle[] | Scalar, alpha?: Scalar | null): void;
  foreachAdd(self: Handle[], other: Handle[], alpha?: Scalar | null): Handle[];
  foreachMul_(self: Handle[], scalar: Scalar): void;
  foreachDiv_(self: Handle[], scalar: Scalar): void;
  foreachAddcmul_(self: Handle[], t1: Handle[], t2: Handle[], value: Scalar): void;
  foreachAddcdiv_(self: Handle[], t1: Handle[], t2: Handle[], value: Scalar): void;
  foreachSqrt(self: Handle[]): Handle[];
  /** libtorch ≥ 2.1 only (throws otherwise; see fusedAdamWAvailable); steps are float tensors */
  fusedAdamW_(params: Handle[], grads: Handle[], expAvgs: Handle[], expAvgSqs: Handle[], maxExpAvgSqs: Handle[], steps: Handle[],
    lr: number, beta1: number, beta2: number, weightDecay: number, eps: number, amsgrad: boolean, maximize: boolean): void;
  fusedAdamWAvailable: boolean;
  inplace(t: Handle, op: string, a?: Handle | Scalar | null, b?: Handle | Scalar | null, c?: Handle | Scalar | null, d?: Handle | Scalar | null, gen?: GeneratorHandle | null): Handle;
  /** max/min along a dim give [values, indices]; every other reduction one tensor */
  reduce(a: Handle, op: 'max' | 'min', dims: number, keep: boolean): [Handle, Handle];
  reduce(a: Handle, op: string, dims: number | number[] | null, keep?: boolean, extra?: number | null): Handle;
  topk(a0: Handle, a1: number, a2: number, a3: boolean, a4: boolean): Handle[];
  sort(a0: Handle, a1: number, a2: boolean, a3: boolean): Handle[];
  reshape(a0: Handle, a1: number[]): Handle;
  view(a0: Handle, a1: number[]): Handle;
  permute(a0: Handle, a1: number[]): Handle;
  transpose(a0: Handle, a1: number, a2: number): Handle;
  flatten(a0: Handle, a1: number, a2: number): Handle;
  squeeze(a: Handle, a1: number | null | undefined): Handle;
  unsqueeze(a0: Handle, a1: number): Handle;
  expand(a0: Handle, a1: number[]): Handle;
  repeat(a0: Handle, a1: number[]): Handle;
  narrow(a0: Handle, a1: number, a2: number, a3: number): Handle;
  slice(a0: Handle, a1: number, start: number | null | undefined, end: number | null | undefined, step: number | null | undefined): Handle;
  select(a0: Handle, a1: number, a2: number): Handle;
  indexSelect(a0: Handle, a1: number, a2: Handle): Handle;
  gather(a0: Handle, a1: number, a2: Handle): Handle;
  scatter(a: Handle, dim: number, idx: Handle, a3: Handle | Scalar, reduce: string | null | undefined): Handle;
  maskedFill(a: Handle, m: Handle, a2: Handle | Scalar): Handle;
  where(c: Handle, ta: Handle | Scalar, tb: Handle | Scalar): Handle;
  indexTensor(a0: Handle, a1: Handle): Handle;
  cat(a0: Handle[], a1: number): Handle;
  stack(a0: Handle[], a1: number): Handle;
  split(a: Handle, a1: number[] | number, dim: number): Handle[];
  chunk(a0: Handle, a1: number, a2: number): Handle[];
  roll(a: Handle, shifts: number | number[], dims: number | number[]): Handle;
  flip(a: Handle, dims: number | number[]): Handle;
  unfoldDim(a0: Handle, a1: number, a2: number, a3: number): Handle;
  tril(a0: Handle, a1: number): Handle;
  triu(a0: Handle, a1: number): Handle;
  clamp(a0: Handle, lo: Scalar | null | undefined, hi: Scalar | null | undefined): Handle;
  to(a: Handle, dt: number | null, dev: string | null | undefined, a3: boolean): Handle;
  baddbmm(a0: Handle, a1: Handle, a2: Handle, a3: Scalar, a4: Scalar): Handle;
  addmm(a0: Handle, a1: Handle, a2: Handle, a3: Scalar, a4: Scalar): Handle;
  einsum(a0: string, a1: Handle[]): Handle;
  jitLoad(path: string, device: string): ScriptModuleHandle;
  jitForward(m: ScriptModuleHandle, inputs: Handle[]): IValue;
  jitTo(m: ScriptModuleHandle, device: string): void;
  linear(a0: Handle, a1: Handle, a2: Handle | null): Handle;
  conv(x: Handle, w: Handle, b: Handle | null, stride: number[], pad: number[] | string, dilation: number[], groups?: number | null): Handle;
  convTranspose2d(x: Handle, w: Handle, b: Handle | null, stride: number[], padding: number[], outputPadding: number[], groups: number | null | undefined, dilation: number[]): Handle;
  maxPool2d(x: Handle, k: number[], stride: number[], padding: number[], dilation: number[], ceil: boolean, withIndices: boolean): Handle;
  avgPool2d(x: Handle, k: number[], stride: number[], padding: number[], ceil: boolean, countIncludePad?: boolean | null, divisorOverride?: number | null): Handle;
  adaptiveAvgPool2d(a0: Handle, a1: number[]): Handle;
  adaptiveMaxPool2d(a0: Handle, a1: number[]): Handle;
  batchNorm(x: Handle, rm: Handle | null, rv: Handle | null, a3: Handle | null, a4: Handle | null, training: boolean, a6: number, a7: number): Handle;
  layerNorm(a0: Handle, a1: number[], a2: Handle | null, a3: Handle | null, a4: number): Handle;
  groupNorm(a0: Handle, a1: number, a2: Handle | null, a3: Handle | null, a4: number): Handle;
  dropout(a0: Handle, a1: number, a2: boolean): Handle;
  softmax(a0: Handle, a1: number, a2: number | null): Handle;
  logSoftmax(a0: Handle, a1: number, a2: number | null): Handle;
  leakyRelu(a0: Handle, a1: Scalar): Handle;
  hardtanh(a0: Handle, a1: Scalar, a2: Scalar): Handle;
  elu(a0: Handle, a1: Scalar): Handle;
  interpolate(x: Handle, size: number[], mode: string, alignCorners: boolean | null | undefined, scales: number[] | null | undefined): Handle;
  im2col(a0: Handle, a1: number[], a2: number[], a3: number[], a4: number[]): Handle;
  col2im(a0: Handle, a1: number[], a2: number[], a3: number[], a4: number[], a5: number[]): Handle;
  pad(x: Handle, p: number[], mode: string | null | undefined, v: number | null | undefined): Handle;
  cdist(a0: Handle, a1: Handle, a2: number): Handle;
  cosineSimilarity(a0: Handle, a1: Handle, a2: number, a3: number): Handle;
  oneHot(a0: Handle, a1: number): Handle;
  embedding(a0: Handle, a1: Handle, a2: number | null | undefined): Handle;
  crossEntropy(x: Handle, y: Handle, weight: Handle | null, reduction: Reduction, ignoreIndex?: number | null, labelSmoothing?: number | null): Handle;
  nllLoss(x: Handle, y: Handle, weight: Handle | null, reduction: Reduction, ignoreIndex?: number | null): Handle;
  klDiv(x: Handle, y: Handle, reduction: Reduction, logTarget: boolean): Handle;
  mseLoss(x: Handle, y: Handle, reduction: Reduction): Handle;
  l1Loss(x: Handle, y: Handle, reduction: Reduction): Handle;
  smoothL1Loss(x: Handle, y: Handle, reduction: Reduction, beta: number): Handle;
  bceWithLogits(x: Handle, y: Handle, weight: Handle | null, posWeight: Handle | null, reduction: Reduction): Handle;
  bce(x: Handle, y: Handle, weight: Handle | null, reduction: Reduction): Handle;
  hasSdpa(): boolean;
  sdpa(a0: Handle, a1: Handle, a2: Handle, a3: Handle | null, a4: number, a5: boolean): Handle;
  dispose(t: Handle): boolean;
  report(t: Handle): void;
  isDisposed(t: Handle): boolean;
  liveTensors(): number;
  shape(a0: Handle): number[];
  strides(a0: Handle): number[];
  dtype(a0: Handle): number;
  device(a0: Handle): string;
  isContiguous(a0: Handle): boolean;
  requiresGrad(a0: Handle): boolean;
  isLeaf(a0: Handle): boolean;
  setRequiresGrad(a0: Handle, a1: boolean): void;
  dataPtrKey(t: Handle): number;
  full(shape: number[], value: Scalar, dtype: number, device?: string): Handle;
  empty(shape: number[], dtype: number, device?: string): Handle;
  arange(start: Scalar, end: Scalar, step: Scalar, dtype: number, device?: string): Handle;
  linspace(start: Scalar, end: Scalar, steps: number, dtype: number, device?: string): Handle;
  eye(n: number, m: number, dtype: number, device?: string): Handle;
  rand(shape: number[], dtype: number, device?: string, gen?: GeneratorHandle | null): Handle;
  randn(shape: number[], dtype: number, device?: string, gen?: GeneratorHandle | null): Handle;
  randint(low: number, high: number, shape: number[], dtype: number, device?: string, gen?: GeneratorHandle | null): Handle;
  randperm(n: number, dtype: number, device?: string, gen?: GeneratorHandle | null): Handle;
  normal_(t: Handle, mean: number, std: number, gen?: GeneratorHandle | null): Handle;
  uniform_(t: Handle, low: number, high: number, gen?: GeneratorHandle | null): Handle;
  bernoulli_(t: Handle, p: number, gen?: GeneratorHandle | null): Handle;
  fromBytes(bytes: ArrayBufferView | ArrayBuffer, shape: number[], dtype: number, device?: string): Handle;
  toBytes(t: Handle): ArrayBuffer;
  item(t: Handle): number;
  backward(t: Handle, g: Handle | null, retain: boolean, create: boolean): void;
  grad(t: Handle): Handle;
  setGrad(t: Handle, a1: Handle | null | undefined): void;
  autogradGrad(outputs: Handle[], inputs: Handle[], gradOutputs: Handle[] | null | undefined, retainGraph: boolean | null | undefined, createGraph: boolean, allowUnused: boolean): (Handle | null)[];
  gradEnabled(): boolean;
  setGradEnabled(a0: boolean): void;
  setNumThreads(n: number): void;
  getNumThreads(): number;
  manualSeed(a0: number): void;
  cudaAvailable(): boolean;
  cudaDeviceCount(): number;
  cudaSynchronize(): void;
  newGenerator(seed: number): GeneratorHandle;
  getRngState(gen: GeneratorHandle | null): Handle;
  setRngState(state: Handle, gen: GeneratorHandle | null): void;
  buildInfo(): { torch: string; cuda: boolean; threads: number; config: string; parallel: string };
  setAutocast(dev: string, on: boolean, dt: number): void;
}

export const native: NativeAddon = load();

// Intra-op threads default to the machine's cores (libtorch may pick otherwise under cgroups).
const envThreads = Number(process.env.CIVET_THREADS ?? '');
native.setNumThreads(envThreads > 0 ? envThreads : Math.max(1, require('node:os').availableParallelism?.() ?? require('node:os').cpus().length));

export const UNARY: Record<string, number> = Object.fromEntries((native.unaryOps as string[]).map((n, i) => [n, i]));
export const BINARY: Record<string, number> = Object.fromEntries((native.binaryOps as string[]).map((n, i) => [n, i]));

// Runs an exported model in onnxruntime (the native CPU build, or the WebAssembly build that
// browsers use, here under Node) and compares its logits with civet's eval forward on the
// same inputs. `civet export` reports this check; the export tests assert it.
import { Tensor, tidy, noGrad, randn } from '../tensor';
import type { Module } from '../nn/module';

export type OrtBackend = 'node' | 'wasm';

type Ort = typeof import('onnxruntime-node');
let ortNode: Ort | undefined;
let ortWeb: Ort | undefined;
function ort(backend: OrtBackend): Ort {
  if (backend === 'node') return (ortNode ??= require('onnxruntime-node') as Ort);
  if (!ortWeb) {
    ortWeb = require('onnxruntime-web') as Ort;
    // one WebAssembly thread: no worker threads to start (or leave behind) under Node
    (ortWeb as any).env.wasm.numThreads = 1;
  }
  return ortWeb;
}

export interface OrtModel {
  run(x: Float32Array, shape: number[]): Promise<Float32Array>;
  release(): Promise<void>;
}

/** An onnxruntime session over the model's bytes, with the 'input' → 'logits' signature civet writes. */
export async function ortSession(bytes: Uint8Array, backend: OrtBackend = 'node'): Promise<OrtModel> {
  const o = ort(backend);
  const s = await o.InferenceSession.create(bytes, { executionProviders: [backend === 'node' ? 'cpu' : 'wasm'], intraOpNumThreads: 1, interOpNumThreads: 1 } as any);
  const inName = s.inputNames[0], outName = s.outputNames[0];
  return {
    async run(x, shape) {
      const out = await s.run({ [inName]: new o.Tensor('float32', x, shape) });
      return out[outName].data as Float32Array;
    },
    release: () => s.release(),
  };
}

export interface Parity {
  /** max |Δ logits| between onnxruntime and civet */
  maxAbsDiff: number;
  /** max |logit| (how large the compared values were) */
  maxAbsLogit: number;
  /** argmax agreement over the inputs */
  top1Agree: number;
  n: number;
}

/** Compares onnxruntime's logits on `x` (or n standard-normal inputs) with `forward` (default:
 *  the model's eval forward) computed by civet. */
export async function checkParity(model: Module, bytes: Uint8Array, inputShape: number[], o: { n?: number; x?: Tensor; backend?: OrtBackend; forward?: (x: Tensor) => Tensor } = {}): Promise<Parity> {
  const x = o.x ?? randn([o.n ?? 32, ...inputShape]);
  const shape = [...x.shape];
  const was = model.training;
  model.eval();
  let want: Float32Array;
  try {
    want = tidy(() => noGrad(() => (o.forward ? o.forward(x) : (model as any).forward(x)).to({ dtype: 'float32', device: 'cpu' }).contiguous().toTypedArray() as Float32Array));
  } finally {
    model.train(was);
  }
  const data = tidy(() => x.to({ dtype: 'float32', device: 'cpu' }).contiguous().toTypedArray() as Float32Array);
  if (!o.x) x.dispose();
  const s = await ortSession(bytes, o.backend);
  let got: Float32Array;
  try { got = await s.run(data, shape); } finally { await s.release(); }
  if (got.length !== want.length) throw new Error(`onnxruntime returned ${got.length} logits, civet ${want.length}`);
  let d = 0, m = 0;
  for (let i = 0; i < got.length; i++) { d = Math.max(d, Math.abs(got[i] - want[i])); m = Math.max(m, Math.abs(want[i])); }
  const k = got.length / shape[0];
  let agree = 0;
  for (let r = 0; r < shape[0]; r++) if (argmax(got, r * k, k) === argmax(want, r * k, k)) agree++;
  return { maxAbsDiff: d, maxAbsLogit: m, top1Agree: agree / shape[0], n: shape[0] };
}

function argmax(a: Float32Array, off: number, k: number): number {
  let b = 0;
  for (let i = 1; i < k; i++) if (a[off + i] > a[off + b]) b = i;
  return b;
}


// Reading PyTorch golden files (format: shared/golden/README.md) and comparing within tolerance.
import * as fs from 'node:fs';
import { Tensor, fromTypedArray } from '../tensor';
import type { DType } from '../tensor';

export interface GoldenTensor { dtype: 'float32' | 'float64' | 'int64' | 'int32' | 'bool'; shape: number[]; data: (number | boolean)[] }
export interface Tol { atol: number; rtol: number }
export interface GoldenCase {
  kind: 'op' | 'loss' | 'model' | string;
  name: string;
  inputs?: Record<string, GoldenTensor>;
  input?: GoldenTensor;
  options?: Record<string, any>;
  grad_output?: GoldenTensor | number;
  expected: { output?: GoldenTensor; loss?: GoldenTensor; logits?: GoldenTensor; grad?: Record<string, GoldenTensor>; state?: Record<string, GoldenTensor> };
  tol?: Tol;
  naming?: string;
  weights?: string;
}
export interface GoldenFile { generator: string; torch: string; seed: number; default_tol: Tol; cases: GoldenCase[] }

export function readGoldenFile(file: string): GoldenFile {
  let text: string;
  try { text = fs.readFileSync(file, 'utf8'); } catch (e: any) { throw new Error(`${file}: cannot read golden file (${e.code ?? e.message})`); }
  let json: any;
  try { json = JSON.parse(text); } catch (e: any) { throw new Error(`${file}: not valid JSON (${e.message})`); }
  if (!json || !Array.isArray(json.cases)) throw new Error(`${file}: not a golden file (no "cases" array)`);
  json.default_tol ??= { atol: 1e-4, rtol: 1e-4 };
  return json as GoldenFile;
}

export function toTensor(g: GoldenTensor, name = 'tensor'): Tensor {
  const n = g.shape.reduce((a, b) => a * b, 1);
  if (!Array.isArray(g.data) || g.data.length !== n) throw new Error(`golden ${name}: ${g.data?.length} values for shape [${g.shape}]`);
  switch (g.dtype) {
    case 'float32': return fromTypedArray(Float32Array.from(g.data as number[]), g.shape);
    case 'float64': return fromTypedArray(Float64Array.from(g.data as number[]), g.shape);
    case 'int64': return fromTypedArray(BigInt64Array.from(g.data as number[], (x) => BigInt(x)), g.shape);
    case 'int32': return fromTypedArray(Int32Array.from(g.data as number[]), g.shape);
    case 'bool': return fromTypedArray(Uint8Array.from(g.data as boolean[], (x) => (x ? 1 : 0)), g.shape, { dtype: 'bool' as DType });
    default: throw new Error(`golden ${name}: unknown dtype ${(g as any).dtype}`);
  }
}

export interface Mismatch { what: string; detail: string }

/** Compares got against want element-wise: |got - want| <= atol + rtol·|want|. Returns null when it matches. */
export function compare(what: string, got: Tensor | null | undefined, want: GoldenTensor, tol: Tol): Mismatch | null {
  if (!got) return { what, detail: 'missing (no value produced)' };
  const gs = got.shape;
  if (gs.length !== want.shape.length || gs.some((s, i) => s !== want.shape[i])) {
    return { what, detail: `shape [${gs}] != expected [${want.shape}]` };
  }
  const g = got.toFloat64Array();
  let worst = -1, worstExcess = 0;
  for (let i = 0; i < g.length; i++) {
    const w = Number(want.data[i]);
    const err = Math.abs(g[i] - w);
    const excess = err - (tol.atol + tol.rtol * Math.abs(w));
    if (!(excess <= 0) && (worst < 0 || excess > worstExcess || Number.isNaN(err))) { worst = i; worstExcess = excess; }
  }
  if (worst < 0) return null;
  const w = Number(want.data[worst]);
  return { what, detail: `element ${worst}: got ${g[worst]}, want ${w} (|err| ${Math.abs(g[worst] - w).toExponential(3)}, atol ${tol.atol}, rtol ${tol.rtol})` };
}

// ONNX's ModelProto through protobufjs, from the official schema (onnx.proto beside this file's
// source, copied from github.com/onnx/onnx). Encoding and decoding only; what goes into the graph
// is graph.ts's business.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as protobuf from 'protobufjs';

/** dist/src/export/proto.js → <package>/src/export/onnx.proto (tsc copies no .proto files). */
export const ONNX_PROTO_FILE = path.resolve(__dirname, '..', '..', '..', 'src', 'export', 'onnx.proto');

let root: protobuf.Root | undefined;
function modelType(): protobuf.Type {
  root ??= protobuf.parse(fs.readFileSync(ONNX_PROTO_FILE, 'utf8'), { keepCase: true }).root;
  return root.lookupType('onnx.ModelProto');
}

/** ONNX TensorProto.DataType codes used by civet. */
export const DT = { FLOAT: 1, INT64: 7 } as const;
/** AttributeProto.AttributeType codes. */
export const AT = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, FLOATS: 6, INTS: 7 } as const;

export function encodeModel(model: Record<string, unknown>): Uint8Array {
  const T = modelType();
  const err = T.verify(model);
  if (err) throw new Error(`onnx: invalid ModelProto: ${err}`);
  return T.encode(T.fromObject(model)).finish();
}

export class OnnxFileError extends Error {
  constructor(msg: string) { super(msg); this.name = 'OnnxFileError'; }
}

export interface OnnxSummary {
  irVersion: number;
  opsets: { domain: string; version: number }[];
  producer: string;
  metadata: Record<string, string>;
  inputs: { name: string; dims: (number | string)[] }[];
  outputs: { name: string; dims: (number | string)[] }[];
  nodeCount: number;
  opTypes: string[];
}

/** Decodes a .onnx file's structure (not its weights' values), with a clear error for files that
 *  are not ONNX or are cut short. */
export function readOnnxSummary(bytes: Uint8Array, source = 'model'): OnnxSummary {
  let m: any;
  try {
    m = modelType().toObject(modelType().decode(bytes), { longs: Number, defaults: false });
  } catch (e: any) {
    throw new OnnxFileError(`${source}: not a readable ONNX model (${e.message}); the file may be truncated or not ONNX`);
  }
  if (!m.graph || !m.ir_version || !m.opset_import?.length) {
    throw new OnnxFileError(`${source}: not an ONNX model (no graph, IR version or opset)`);
  }
  const dims = (v: any) => (v.type?.tensor_type?.shape?.dim ?? []).map((d: any) => d.dim_param ?? Number(d.dim_value ?? 0));
  return {
    irVersion: Number(m.ir_version),
    opsets: m.opset_import.map((o: any) => ({ domain: o.domain ?? '', version: Number(o.version) })),
    producer: m.producer_name ?? '',
    metadata: Object.fromEntries((m.metadata_props ?? []).map((p: any) => [p.key, p.value])),
    inputs: (m.graph.input ?? []).map((v: any) => ({ name: v.name, dims: dims(v) })),
    outputs: (m.graph.output ?? []).map((v: any) => ({ name: v.name, dims: dims(v) })),
    nodeCount: (m.graph.node ?? []).length,
    opTypes: [...new Set<string>((m.graph.node ?? []).map((n: any) => n.op_type))].sort(),
  };
}

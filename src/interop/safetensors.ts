// Pure-TypeScript reader/writer for the safetensors format
// (https://github.com/huggingface/safetensors#format), independent of the tensor engine.
//
// Layout: 8-byte little-endian u64 N | N bytes of UTF-8 JSON header | data section.
// The header maps tensor names to {dtype, shape, data_offsets: [begin, end]} (offsets relative
// to the data section) plus an optional "__metadata__" string->string map. The tensors must
// tile the data section exactly: no overlaps, no holes, nothing left over.
//
// The reader treats every file as hostile: each field is checked before it is used, so a bad
// file yields a SafetensorsError naming the file and the problem, never an out-of-bounds view.
import * as fs from 'node:fs';
import { writeFileAtomic } from '../util/atomic';

export type SafeDType = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

/** Bytes per element of each dtype. */
export const DTYPE_SIZES: Readonly<Record<SafeDType, number>> = Object.freeze({
  F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1,
});

/** One tensor: C-order, little-endian bytes. `data` may be a view into a larger file buffer. */
export interface RawTensor {
  dtype: SafeDType;
  shape: number[];
  data: Uint8Array;
}

export interface SafetensorsContents {
  tensors: Map<string, RawTensor>;
  metadata: Record<string, string>;
}

/** Any problem with a safetensors file or with tensors handed to the writer. */
export class SafetensorsError extends Error {
  override name = 'SafetensorsError';
}

/** Same limit as the reference implementation: bigger headers are treated as corrupt. */
export const MAX_HEADER_BYTES = 100_000_000;
const METADATA_KEY = '__metadata__';
const ENTRY_KEYS = ['data_offsets', 'dtype', 'shape'];
// A lone UTF-16 surrogate cannot be encoded as UTF-8, so such a name could not round-trip.
const LONE_SURROGATE = /\p{Cs}/u;

/**
 * A value as it appears in an error message: bounded length (names and values may be huge), and
 * never throws (JSON.stringify recurses, so a deeply nested hostile value would overflow the stack).
 */
function show(v: unknown): string {
  let s: string;
  try {
    s = JSON.stringify(v) ?? String(v);
  } catch {
    s = '<deeply nested value>';
  }
  return s.length > 100 ? `${s.slice(0, 97)}...` : s;
}

function isDType(s: unknown): s is SafeDType {
  return typeof s === 'string' && Object.prototype.hasOwnProperty.call(DTYPE_SIZES, s);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Validates a shape and returns its byte size exactly (BigInt: dims can be up to 2^53). */
function checkShape(shape: unknown, dtype: SafeDType, fail: (msg: string) => never): bigint {
  if (!Array.isArray(shape)) fail(`shape must be an array, got ${show(shape)}`);
  let count = 1n;
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d < 0) {
      fail(`shape must contain non-negative integers, got ${show(shape)}`);
    }
    count *= BigInt(d);
  }
  return count * BigInt(DTYPE_SIZES[dtype]);
}

/**
 * Parses a whole safetensors file held in memory. Tensor data are zero-copy views into `buf`
 * (so they alias it), and the map iterates in file layout order. `source` (normally the file
 * path) prefixes every error message.
 */
export function parseSafetensors(buf: Uint8Array, source = '<buffer>'): SafetensorsContents {
  // Explicitly typed so TypeScript narrows types after `if (...) fail(...)`.
  const fail: (msg: string) => never = (msg) => {
    throw new SafetensorsError(`${source}: ${msg}`);
  };
  if (buf.length < 8) fail(`file truncated: ${buf.length} bytes is shorter than the 8-byte header length field`);

  // The length is a u64; read it as BigInt so values >= 2^53 are compared exactly.
  const n64 = new DataView(buf.buffer, buf.byteOffset, 8).getBigUint64(0, true);
  if (n64 > BigInt(MAX_HEADER_BYTES)) fail(`header length ${n64} is absurd (limit ${MAX_HEADER_BYTES} bytes); file is corrupt`);
  const n = Number(n64);
  if (8 + n > buf.length) fail(`file truncated: header length ${n} runs past the end of the ${buf.length}-byte file`);

  let text: string;
  try {
    // fatal: reject invalid UTF-8 rather than silently inserting U+FFFD.
    // ignoreBOM: keep a BOM so that it fails the '{' check below instead of being skipped.
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(buf.subarray(8, 8 + n));
  } catch {
    return fail('header is not valid UTF-8');
  }
  // The spec requires the header to begin with '{' (trailing space padding is allowed).
  if (!text.startsWith('{')) fail(`header is not a JSON object (must start with '{')`);
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (err) {
    return fail(`header is not valid JSON: ${(err as Error).message}`);
  }
  if (!isPlainObject(header)) fail('header is not a JSON object');

  const dataStart = 8 + n;
  const dataLen = buf.length - dataStart;
  const metadata: Record<string, string> = {};
  const entries: { name: string; begin: number; end: number; raw: Omit<RawTensor, 'data'> }[] = [];

  for (const [name, value] of Object.entries(header)) {
    if (LONE_SURROGATE.test(name)) fail(`key ${show(name)} is not valid Unicode`);
    if (name === METADATA_KEY) {
      // The reference reader also treats `null` as "no metadata".
      if (value === null) continue;
      if (!isPlainObject(value)) fail(`${METADATA_KEY} must be an object of string values`);
      for (const [k, v] of Object.entries(value)) {
        if (typeof v !== 'string') fail(`${METADATA_KEY} value for ${show(k)} must be a string, got ${show(v)}`);
        if (LONE_SURROGATE.test(k) || LONE_SURROGATE.test(v)) fail(`${METADATA_KEY} entry ${show(k)} is not valid Unicode`);
        // defineProperty so a key named "__proto__" stays data rather than changing the prototype.
        Object.defineProperty(metadata, k, { value: v, enumerable: true, writable: true, configurable: true });
      }
      continue;
    }
    const where = `tensor ${show(name)}`;
    const bad: (msg: string) => never = (msg) => fail(`${where}: ${msg}`);
    if (!isPlainObject(value)) bad('entry must be an object with dtype, shape and data_offsets');
    const keys = Object.keys(value).sort();
    if (keys.join() !== ENTRY_KEYS.join()) {
      bad(`entry must have exactly the keys dtype, shape, data_offsets; got ${show(keys)}`);
    }
    const { dtype, shape, data_offsets: offs } = value;
    if (!isDType(dtype)) bad(`unknown dtype ${show(dtype)}`);
    const byteLen = checkShape(shape, dtype, bad);
    if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((o) => Number.isSafeInteger(o) && o >= 0)) {
      bad(`data_offsets must be [begin, end] non-negative integers, got ${show(offs)}`);
    }
    const [begin, end] = offs as [number, number];
    if (begin > end) bad(`data_offsets begin ${begin} > end ${end}`);
    if (BigInt(end - begin) !== byteLen) {
      bad(`data length ${end - begin} bytes (data_offsets [${begin}, ${end}]) does not match shape ${show(shape)} x ${dtype} = ${byteLen} bytes`);
    }
    if (end > dataLen) bad(`file truncated: data_offsets end ${end} is beyond the ${dataLen}-byte data section`);
    entries.push({ name, begin, end, raw: { dtype, shape: (shape as number[]).slice() } });
  }

  // JSON.parse reads 2.0 or 2e0 as 2, so the checks above pass them; but the reference reader
  // accepts only integer literals for shapes and offsets (the only numbers a header may hold).
  // Strings are matched whole so that digits inside them are skipped.
  for (const m of text.matchAll(/"(?:[^"\\]|\\.)*"|(-?\d+[.eE][-+\d.eE]*)/g)) {
    if (m[1] !== undefined) fail(`header contains the non-integer number ${show(m[1])}; shapes and offsets must be integers`);
  }

  // Tensors must tile [0, dataLen) exactly. Sorting by (begin, end) puts empty tensors before
  // a non-empty one starting at the same offset, so they do not count as overlapping it.
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  let prev = '';
  for (const e of entries) {
    if (e.begin < cursor) fail(`tensor ${show(e.name)} data_offsets [${e.begin}, ${e.end}] overlap tensor ${show(prev)} (which ends at ${cursor})`);
    if (e.begin > cursor) fail(`hole in data section: bytes [${cursor}, ${e.begin}) before tensor ${show(e.name)} belong to no tensor`);
    cursor = e.end;
    prev = e.name;
  }
  if (cursor !== dataLen) fail(`data section has ${dataLen - cursor} trailing bytes (from offset ${cursor}) that belong to no tensor`);

  const tensors = new Map<string, RawTensor>();
  for (const e of entries) {
    // A plain Uint8Array (not a Buffer subclass) so consumers see one type.
    const data = new Uint8Array(buf.buffer, buf.byteOffset + dataStart + e.begin, e.end - e.begin);
    tensors.set(e.name, { ...e.raw, data });
  }
  return { tensors, metadata };
}

/** Reads and parses a file; every error (including a missing file) names the path. */
export function readSafetensorsFile(path: string): SafetensorsContents {
  let buf: Buffer;
  try {
    buf = fs.readFileSync(path);
  } catch (err) {
    throw new SafetensorsError(`${path}: cannot read file: ${(err as Error).message}`, { cause: err });
  }
  return parseSafetensors(buf, path);
}

// Rank used by the reference writer: it lays tensors out by descending dtype (its enum is in
// increasing alignment order), then by name. Following it keeps each tensor aligned to its
// element size (the data section starts 8-byte aligned) and gives byte-identical output.
const DTYPE_RANK: Record<SafeDType, number> = {
  BOOL: 0, U8: 1, I8: 2, I16: 3, F16: 4, BF16: 5, I32: 6, F32: 7, F64: 8, I64: 9,
};

/**
 * Serializes tensors to safetensors bytes. Returns [length field + header, ...tensor data]
 * without copying tensor data; write the chunks in order (or Buffer.concat them).
 */
export function serializeSafetensors(
  tensors: Iterable<[string, RawTensor]>,
  metadata?: Record<string, string>,
): Uint8Array[] {
  const fail: (msg: string) => never = (msg) => {
    throw new SafetensorsError(`serializeSafetensors: ${msg}`);
  };
  const items: { name: string; key: Buffer; t: RawTensor }[] = [];
  const seen = new Set<string>();
  for (const [name, t] of tensors) {
    const where = `tensor ${show(name)}`;
    if (typeof name !== 'string' || name === METADATA_KEY || LONE_SURROGATE.test(name)) fail(`invalid tensor name ${show(name)}`);
    if (seen.has(name)) fail(`duplicate ${where}`);
    seen.add(name);
    if (!isDType(t.dtype)) fail(`${where}: unknown dtype ${show(t.dtype)}`);
    const byteLen = checkShape(t.shape, t.dtype, (m) => fail(`${where}: ${m}`));
    if (BigInt(t.data.byteLength) !== byteLen) {
      fail(`${where}: data has ${t.data.byteLength} bytes but shape ${show(t.shape)} x ${t.dtype} needs ${byteLen}`);
    }
    items.push({ name, key: Buffer.from(name, 'utf8'), t });
  }
  // Names compare by UTF-8 bytes, as in the reference writer.
  items.sort((a, b) => DTYPE_RANK[b.t.dtype] - DTYPE_RANK[a.t.dtype] || Buffer.compare(a.key, b.key));

  // Build the header by hand so key order is fixed: __metadata__ first, then tensors in layout order.
  const parts: string[] = [];
  if (metadata !== undefined) {
    const keys = Object.keys(metadata).sort();
    for (const k of keys) {
      const v = metadata[k];
      if (typeof v !== 'string' || LONE_SURROGATE.test(k) || LONE_SURROGATE.test(v)) fail(`metadata ${show(k)} must be a valid string`);
    }
    parts.push(`${JSON.stringify(METADATA_KEY)}:{${keys.map((k) => `${JSON.stringify(k)}:${JSON.stringify(metadata[k])}`).join(',')}}`);
  }
  let offset = 0;
  for (const { name, t } of items) {
    const end = offset + t.data.byteLength;
    parts.push(`${JSON.stringify(name)}:{"dtype":"${t.dtype}","shape":${JSON.stringify(t.shape)},"data_offsets":[${offset},${end}]}`);
    offset = end;
  }
  const header = Buffer.from(`{${parts.join(',')}}`, 'utf8');
  // Pad with spaces to a multiple of 8 so the data section (and every tensor in it) is aligned.
  const padded = Math.ceil(header.length / 8) * 8;
  if (padded > MAX_HEADER_BYTES) fail(`header would be ${padded} bytes, over the ${MAX_HEADER_BYTES}-byte limit readers enforce`);
  const head = Buffer.alloc(8 + padded, 0x20);
  head.writeBigUInt64LE(BigInt(padded), 0);
  header.copy(head, 8);
  return [new Uint8Array(head.buffer, head.byteOffset, head.length), ...items.map((i) => i.t.data)];
}

/** Serializes and writes atomically: readers see either the old file or the complete new one. */
export function writeSafetensorsFile(
  path: string,
  tensors: Iterable<[string, RawTensor]>,
  metadata?: Record<string, string>,
): void {
  writeFileAtomic(path, serializeSafetensors(tensors, metadata));
}

/** The typed array toTypedArray returns for each dtype (F16/BF16: raw bit patterns). */
export interface TypedArrayByDType {
  F64: Float64Array; F32: Float32Array; F16: Uint16Array; BF16: Uint16Array; I64: BigInt64Array;
  I32: Int32Array; I16: Int16Array; I8: Int8Array; U8: Uint8Array; BOOL: Uint8Array;
}
export type SafeTypedArray = TypedArrayByDType[SafeDType];

const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Typed-array view of a tensor's elements. F16 and BF16 come back as raw Uint16Array bit
 * patterns; BOOL as Uint8Array (0/1). Shares memory with `raw.data` when it is aligned for the
 * element type, otherwise (e.g. a view at an odd file offset) returns a copy.
 */
export function toTypedArray<D extends SafeDType>(raw: RawTensor & { dtype: D }): TypedArrayByDType[D] {
  if (!isDType(raw.dtype)) throw new SafetensorsError(`toTypedArray: unknown dtype ${show(raw.dtype)}`);
  // Typed arrays use host byte order; safetensors is little-endian.
  if (!HOST_LITTLE_ENDIAN) throw new SafetensorsError('toTypedArray: big-endian hosts are not supported');
  const size = DTYPE_SIZES[raw.dtype];
  let { data } = raw;
  if (data.byteLength % size !== 0) {
    throw new SafetensorsError(`toTypedArray: ${data.byteLength} bytes is not a whole number of ${raw.dtype} elements`);
  }
  if (data.byteOffset % size !== 0) data = data.slice(); // slice() copies into a fresh, aligned buffer
  const { buffer, byteOffset } = data;
  const len = data.byteLength / size;
  const make: { [K in SafeDType]: () => TypedArrayByDType[K] } = {
    F64: () => new Float64Array(buffer, byteOffset, len),
    F32: () => new Float32Array(buffer, byteOffset, len),
    F16: () => new Uint16Array(buffer, byteOffset, len),
    BF16: () => new Uint16Array(buffer, byteOffset, len),
    I64: () => new BigInt64Array(buffer, byteOffset, len),
    I32: () => new Int32Array(buffer, byteOffset, len),
    I16: () => new Int16Array(buffer, byteOffset, len),
    I8: () => new Int8Array(buffer, byteOffset, len),
    U8: () => new Uint8Array(buffer, byteOffset, len),
    BOOL: () => new Uint8Array(buffer, byteOffset, len),
  };
  return make[raw.dtype]();
}

/** Wraps a typed array's bytes (no copy) as a RawTensor, checking the element count. */
export function fromTypedArray(dtype: SafeDType, shape: number[], values: ArrayBufferView): RawTensor {
  const data = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  const byteLen = checkShape(shape, dtype, (m) => {
    throw new SafetensorsError(`fromTypedArray: ${m}`);
  });
  if (BigInt(data.byteLength) !== byteLen) {
    throw new SafetensorsError(`fromTypedArray: ${data.byteLength} bytes do not match shape ${show(shape)} x ${dtype} = ${byteLen} bytes`);
  }
  return { dtype, shape: shape.slice(), data };
}

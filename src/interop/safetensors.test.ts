import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  DTYPE_SIZES, RawTensor, SafeDType, SafetensorsError, fromTypedArray, parseSafetensors,
  readSafetensorsFile, serializeSafetensors, toTypedArray, writeSafetensorsFile,
} from './safetensors';

// Compiled to dist/src/interop/, so the repo root is three levels up.
const FIXTURES = path.join(__dirname, '..', '..', '..', 'test', 'fixtures', 'safetensors');
const DTYPES = Object.keys(DTYPE_SIZES) as SafeDType[];

/** Assembles a file by hand: u64 LE header length, header text as-is (no padding), data. */
function makeFile(header: string, data: ArrayLike<number> = []): Uint8Array {
  const h = Buffer.from(header, 'utf8');
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

/** Joins serializer chunks into one freshly allocated (hence 8-byte aligned) buffer. */
function concat(chunks: Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(chunks));
}

function bytesOf(view: ArrayBufferView): number[] {
  return Array.from(new Uint8Array(view.buffer, view.byteOffset, view.byteLength));
}

/** Elements of a tensor as plain numbers (or bigints for I64). */
function values(t: RawTensor): (number | bigint)[] {
  return Array.from(toTypedArray(t) as ArrayLike<number | bigint>);
}

function expectError(buf: Uint8Array, pattern: RegExp): void {
  assert.throws(() => parseSafetensors(buf, 'bad.safetensors'), (err: unknown) => {
    assert.ok(err instanceof SafetensorsError, `expected SafetensorsError, got ${String(err)}`);
    assert.ok(err.message.startsWith('bad.safetensors: '), err.message);
    assert.match(err.message, pattern);
    return true;
  });
}

const entry = (dtype: string, shape: unknown, offs: unknown) =>
  JSON.stringify({ dtype, shape, data_offsets: offs });

test('round trip of every dtype, a 0-d scalar and empty tensors', () => {
  const input: [string, RawTensor][] = [
    ['f64', fromTypedArray('F64', [2, 2], new Float64Array([0.1, -2.5, 1e300, -0]))],
    ['f32', fromTypedArray('F32', [3], new Float32Array([1.5, -3.25, 1e-30]))],
    ['f16', fromTypedArray('F16', [2], new Uint16Array([0x3c00, 0xc000]))],
    ['bf16', fromTypedArray('BF16', [1, 2], new Uint16Array([0x3f80, 0xbf00]))],
    ['i64', fromTypedArray('I64', [2], new BigInt64Array([-(2n ** 63n), 2n ** 63n - 1n]))],
    ['i32', fromTypedArray('I32', [2, 1], new Int32Array([-2147483648, 7]))],
    ['i16', fromTypedArray('I16', [3], new Int16Array([-1, 0, 32767]))],
    ['i8', fromTypedArray('I8', [2], new Int8Array([-128, 127]))],
    ['u8', fromTypedArray('U8', [1, 1, 3], new Uint8Array([0, 128, 255]))],
    ['bool', fromTypedArray('BOOL', [2], new Uint8Array([1, 0]))],
    ['scalar', fromTypedArray('F32', [], new Float32Array([42.5]))],
    ['empty', fromTypedArray('F32', [0, 3], new Float32Array(0))],
    ['empty.i64', fromTypedArray('I64', [4, 0], new BigInt64Array(0))],
  ];
  const metadata = { format: 'pt', 'unicodé ✓': 'vålue 🎉', '': '' };
  const buf = concat(serializeSafetensors(input, metadata));

  // Header is space-padded to a multiple of 8, so the data section starts aligned.
  const n = Number(new DataView(buf.buffer).getBigUint64(0, true));
  assert.equal(n % 8, 0);

  const { tensors, metadata: meta } = parseSafetensors(buf);
  assert.deepEqual(meta, metadata);
  assert.deepEqual([...tensors.keys()].sort(), input.map(([k]) => k).sort());
  for (const [name, t] of input) {
    const got = tensors.get(name)!;
    assert.equal(got.dtype, t.dtype, name);
    assert.deepEqual(got.shape, t.shape, name);
    assert.deepEqual(bytesOf(got.data), bytesOf(t.data), name);
    // Every tensor is aligned to its element size, so typed arrays are zero-copy views.
    assert.equal(got.data.byteOffset % DTYPE_SIZES[got.dtype], 0, name);
    assert.equal(toTypedArray(got).buffer, buf.buffer, name);
  }
  assert.deepEqual(values(tensors.get('f64')!), [0.1, -2.5, 1e300, -0]);
  assert.ok(Object.is(toTypedArray(tensors.get('f64')!)[3], -0));
  assert.deepEqual(values(tensors.get('f32')!), Array.from(new Float32Array([1.5, -3.25, 1e-30])));
  assert.deepEqual(values(tensors.get('i64')!), [-(2n ** 63n), 2n ** 63n - 1n]);
  assert.deepEqual(values(tensors.get('bf16')!), [0x3f80, 0xbf00]);
  assert.deepEqual(values(tensors.get('i8')!), [-128, 127]);
  assert.deepEqual(values(tensors.get('scalar')!), [42.5]);
  assert.equal(tensors.get('scalar')!.shape.length, 0);
  assert.equal(tensors.get('empty')!.data.byteLength, 0);
  assert.ok(toTypedArray(tensors.get('empty.i64')!) instanceof BigInt64Array);

  // Deterministic: input order does not matter; 8-byte dtypes come first, then by name.
  const again = concat(serializeSafetensors(new Map(input.slice().reverse()), { ...metadata }));
  assert.deepEqual(again, buf);
  const order = [...tensors.entries()].sort((a, b) => a[1].data.byteOffset - b[1].data.byteOffset).map(([k]) => k);
  assert.deepEqual(order.slice(0, 3), ['empty.i64', 'i64', 'f64']);
});

test('hand-built file parses to the exact expected values', () => {
  // Entries deliberately out of layout order, metadata in the middle, no alignment padding
  // (8 + header length is odd), and trailing spaces after the JSON.
  const header =
    '{"w":{"dtype":"F32","shape":[2],"data_offsets":[8,16]},"__metadata__":{"k":"v"},' +
    '"idx":{"dtype":"I64","shape":[1],"data_offsets":[0,8]},' +
    '"h":{"dtype":"BF16","shape":[2,1],"data_offsets":[16,20]},' +
    '"flag":{"dtype":"BOOL","shape":[],"data_offsets":[20,21]}}  ';
  const data = [
    0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // idx = [-2n]
    0x00, 0x00, 0xc0, 0x3f, 0x00, 0x00, 0x00, 0xc0, // w = [1.5, -2]
    0x80, 0x3f, 0x00, 0xbf, //                         h = bf16 [1.0, -0.5]
    0x01, //                                           flag = true
  ];
  const buf = makeFile(header, data);
  assert.equal((8 + Buffer.byteLength(header)) % 2, 1);
  const { tensors, metadata } = parseSafetensors(buf);
  assert.deepEqual(metadata, { k: 'v' });
  assert.deepEqual([...tensors.keys()], ['idx', 'w', 'h', 'flag']); // layout order

  const w = tensors.get('w')!;
  assert.deepEqual({ dtype: w.dtype, shape: w.shape }, { dtype: 'F32', shape: [2] });
  const wv = toTypedArray(w);
  assert.ok(wv instanceof Float32Array);
  assert.deepEqual(Array.from(wv), [1.5, -2]);
  assert.notEqual(wv.buffer, buf.buffer); // unaligned view, so it had to be copied
  assert.deepEqual(values(tensors.get('idx')!), [-2n]);
  const h = tensors.get('h')!;
  assert.deepEqual(h.shape, [2, 1]);
  assert.deepEqual(values(h), [0x3f80, 0xbf00]);
  const flag = tensors.get('flag')!;
  assert.deepEqual({ dtype: flag.dtype, shape: flag.shape, bytes: bytesOf(flag.data) }, { dtype: 'BOOL', shape: [], bytes: [1] });
  // Views point into the caller's buffer at the right place (no copy on parse).
  assert.equal(w.data.buffer, buf.buffer);
  assert.equal(w.data.byteOffset, 8 + Buffer.byteLength(header) + 8);
});

test('byte-exact agreement with the format spec examples', () => {
  // Example from the spec docs: header length '<' (60), one I32 [2,2] tensor of zeros.
  const doc = makeFile('{"test":{"dtype":"I32","shape":[2,2],"data_offsets":[0,16]}}', new Uint8Array(16));
  assert.equal(doc[0], 60);
  assert.deepEqual(values(parseSafetensors(doc).tensors.get('test')!), [0, 0, 0, 0]);

  // The writer produces what the reference writer does: compact JSON, space padding to 8.
  const f32 = new Float32Array([0, 1, 2, 3, 4, 5]);
  const one = '{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}';
  assert.equal(one.length, 64); // already a multiple of 8: no padding
  assert.deepEqual(concat(serializeSafetensors([['attn.0', fromTypedArray('F32', [1, 2, 3], f32)]])), makeFile(one, bytesOf(f32)));
  const two = '{"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}}';
  assert.deepEqual(concat(serializeSafetensors([['attn0', fromTypedArray('F32', [1, 1, 2, 3], f32)]])), makeFile(two + ' '.repeat(72 - two.length), bytesOf(f32)));
  assert.deepEqual(concat(serializeSafetensors([])), makeFile('{}      '));
  assert.deepEqual(concat(serializeSafetensors([], { framework: 'pt' })), makeFile('{"__metadata__":{"framework":"pt"}}     '));
});

test('reads a file written by the official safetensors package, and rewrites it byte for byte', () => {
  // test/fixtures/safetensors/reference.safetensors comes from make_reference.py (safetensors 0.8.0).
  const file = path.join(FIXTURES, 'reference.safetensors');
  const { tensors, metadata } = readSafetensorsFile(file);
  assert.deepEqual(metadata, { note: 'h\u00e9llo \u2713' });
  const get = (name: string) => values(tensors.get(name)!);
  const shape = (name: string) => `${tensors.get(name)!.dtype}${JSON.stringify(tensors.get(name)!.shape)}`;
  assert.deepEqual(get('a.f64'), [0.5, -1.25, 3e300, 0, -0, 1e-300]);
  assert.equal(shape('a.f64'), 'F64[2,3]');
  assert.deepEqual(get('b.f32'), [-1, -0.5, 0, 0.5, 1, 1.5]);
  assert.equal(shape('b.f32'), 'F32[3,2]');
  assert.deepEqual(get('c.f16'), [0x3c00, 0xc000, 0x3800, 0x7bff]); // 1, -2, 0.5, 65504
  assert.deepEqual(get('d.i64'), [-1n, 2n ** 40n, -(2n ** 62n)]);
  assert.deepEqual(get('e.i32'), [-7, 2147483647]);
  assert.equal(shape('e.i32'), 'I32[1,2]');
  assert.deepEqual(get('f.i16'), [-32768, 12345]);
  assert.deepEqual(get('g.i8'), [-128, 127, 0]);
  assert.deepEqual(get('h.u8'), [0, 255, 17, 3, 200]);
  assert.deepEqual(get('i.bool'), [1, 0, 1]);
  assert.equal(shape('i.bool'), 'BOOL[3]');
  assert.deepEqual(get('scalar'), [3.25]);
  assert.equal(shape('scalar'), 'F32[]');
  assert.equal(shape('empty'), 'F32[0,4]');
  assert.equal(tensors.size, 11);

  const ours = concat(serializeSafetensors(tensors, metadata));
  assert.deepEqual(ours, new Uint8Array(fs.readFileSync(file)));
});

test('each kind of malformed file gives a SafetensorsError saying what is wrong', () => {
  const good = entry('F32', [2], [0, 8]);
  const data8 = new Uint8Array(8);
  const withLength = (n: bigint, rest: Uint8Array) => {
    const b = new Uint8Array(8 + rest.length);
    new DataView(b.buffer).setBigUint64(0, n, true);
    b.set(rest, 8);
    return b;
  };
  expectError(new Uint8Array(0), /truncated.*0 bytes/);
  expectError(new Uint8Array(7), /truncated.*7 bytes/);
  expectError(withLength(100n, Buffer.from('{}')), /truncated: header length 100/);
  expectError(withLength(2n ** 64n - 1n, Buffer.from('{}')), /header length 18446744073709551615 is absurd/);
  expectError(withLength(100_000_001n, new Uint8Array(16)), /absurd/);
  const badUtf8 = makeFile('{"a":"x"}');
  badUtf8[8 + 6] = 0xff; // the x
  expectError(badUtf8, /not valid UTF-8/);
  expectError(makeFile('{"a":'), /not valid JSON/);
  expectError(makeFile('[]'), /not a JSON object/);
  expectError(makeFile('"x"'), /not a JSON object/);
  expectError(makeFile('\ufeff{}'), /not a JSON object/); // a BOM is not allowed
  expectError(makeFile(' {}'), /must start with '\{'/);
  expectError(makeFile('{}{}'), /not valid JSON/);
  expectError(makeFile('{"__metadata__":[]}'), /__metadata__ must be an object/);
  expectError(makeFile('{"__metadata__":"x"}'), /__metadata__ must be an object/);
  expectError(makeFile('{"__metadata__":{"epochs":3}}'), /__metadata__ value for "epochs" must be a string/);
  expectError(makeFile('{"t":[1]}'), /tensor "t": entry must be an object/);
  expectError(makeFile('{"t":null}'), /tensor "t": entry must be an object/);
  expectError(makeFile('{"t":{"dtype":"F32","shape":[2]}}', data8), /exactly the keys/);
  expectError(makeFile(`{"t":${good.slice(0, -1)},"extra":1}}`, data8), /exactly the keys/);
  expectError(makeFile(`{"t":${entry('F8_E4M3', [8], [0, 8])}}`, data8), /tensor "t": unknown dtype "F8_E4M3"/);
  expectError(makeFile(`{"t":${entry('f32', [2], [0, 8])}}`, data8), /unknown dtype "f32"/);
  expectError(makeFile('{"t":{"dtype":4,"shape":[2],"data_offsets":[0,8]}}', data8), /unknown dtype 4/);
  expectError(makeFile(`{"t":${entry('F32', 2, [0, 8])}}`, data8), /shape must be an array/);
  expectError(makeFile(`{"t":${entry('F32', [-2], [0, 8])}}`, data8), /shape must contain non-negative integers/);
  expectError(makeFile(`{"t":${entry('F32', [1.5], [0, 8])}}`, data8), /shape must contain non-negative integers/);
  expectError(makeFile(`{"t":${entry('F32', ['2'], [0, 8])}}`, data8), /shape must contain non-negative integers/);
  expectError(makeFile(`{"t":${entry('F32', [2 ** 53], [0, 8])}}`, data8), /shape must contain non-negative integers/);
  expectError(makeFile(`{"t":${entry('F32', [2], [0])}}`, data8), /data_offsets must be \[begin, end\]/);
  expectError(makeFile(`{"t":${entry('F32', [2], [0, 8, 8])}}`, data8), /data_offsets must be/);
  expectError(makeFile(`{"t":${entry('F32', [2], [-8, 0])}}`, data8), /data_offsets must be/);
  expectError(makeFile(`{"t":${entry('F32', [2], [0, 8.5])}}`, data8), /data_offsets must be/);
  expectError(makeFile('{"t":{"dtype":"F32","shape":[2],"data_offsets":[0,18446744073709551616]}}', data8), /data_offsets must be/);
  expectError(makeFile(`{"t":${entry('F32', [2], { begin: 0, end: 8 })}}`, data8), /data_offsets must be/);
  expectError(makeFile(`{"t":${entry('F32', [0], [8, 0])}}`, data8), /data_offsets begin 8 > end 0/);
  expectError(makeFile(`{"t":${entry('F32', [2], [0, 8])}}`, new Uint8Array(5)), /truncated: data_offsets end 8 is beyond the 5-byte data section/);
  expectError(makeFile(`{"t":${entry('F32', [3], [0, 8])}}`, data8), /data length 8 bytes .* does not match shape \[3\] x F32 = 12 bytes/);
  expectError(makeFile(`{"t":${entry('F64', [1], [0, 4])}}`, data8), /does not match/);
  // Overflowing products are compared exactly, not wrapped or rounded.
  expectError(makeFile(`{"t":${entry('F32', [2 ** 52, 2 ** 52, 2 ** 52], [0, 8])}}`, data8), /does not match/);
  expectError(makeFile(`{"a":${entry('U8', [6], [0, 6])},"b":${entry('U8', [4], [4, 8])}}`, data8), /"b" data_offsets \[4, 8\] overlap tensor "a"/);
  expectError(makeFile(`{"a":${entry('U8', [8], [0, 8])},"b":${entry('U8', [0], [3, 3])}}`, data8), /overlap/);
  expectError(makeFile(`{"a":${entry('U8', [8], [0, 8])},"b":${entry('U8', [8], [0, 8])}}`, data8), /overlap/);
  expectError(makeFile(`{"a":${entry('U8', [4], [0, 4])},"b":${entry('U8', [2], [6, 8])}}`, data8), /hole in data section: bytes \[4, 6\)/);
  expectError(makeFile(`{"a":${entry('U8', [4], [4, 8])}}`, data8), /hole in data section: bytes \[0, 4\)/);
  expectError(makeFile(`{"a":${entry('U8', [4], [0, 4])}}`, data8), /4 trailing bytes/);
  expectError(makeFile('{}', [1]), /1 trailing bytes/);
  // Integer-valued non-integer literals are rejected, as the reference reader does.
  expectError(makeFile(`{"t":{"dtype":"U8","shape":[8.0],"data_offsets":[0,8]}}`, data8), /non-integer number "8\.0"/);
  expectError(makeFile(`{"t":{"dtype":"U8","shape":[8],"data_offsets":[0,8e0]}}`, data8), /non-integer number "8e0"/);
  // Hostile nesting and sizes: errors stay SafetensorsErrors with short messages.
  const deep = '['.repeat(200_000) + ']'.repeat(200_000);
  expectError(makeFile(`{"t":{"dtype":"U8","shape":${deep},"data_offsets":[0,0]}}`), /shape must contain non-negative integers, got <deeply nested value>/);
  expectError(makeFile(`{"t":{"dtype":"U8","shape":[0],"data_offsets":${deep}}}`), /data_offsets must be/);
  expectError(makeFile(`{"t":{"dtype":${deep},"shape":[0],"data_offsets":[0,0]}}`), /unknown dtype/);
  expectError(makeFile(`{"__metadata__":{"k":${deep}}}`), /must be a string/);
  const long = 'n'.repeat(1_000_000);
  assert.throws(() => parseSafetensors(makeFile(`{"${long}":1}`)), (e: unknown) => e instanceof SafetensorsError && e.message.length < 300);
  expectError(makeFile('{"\\ud800":{}}'), /not valid Unicode/);
  expectError(makeFile('{"__metadata__":{"k":"\\udc00"}}'), /not valid Unicode/);
});

test('accepts what the spec allows', () => {
  // Empty tensors take no bytes, and several may sit at the same offset, even between others.
  const { tensors } = parseSafetensors(makeFile(
    `{"e1":${entry('F32', [0], [4, 4])},"a":${entry('U8', [4], [0, 4])},"e2":${entry('I64', [3, 0], [4, 4])},"b":${entry('U8', [1], [4, 5])}}`,
    [1, 2, 3, 4, 5],
  ));
  assert.deepEqual(bytesOf(tensors.get('b')!.data), [5]);
  assert.equal(tensors.get('e2')!.data.byteLength, 0);
  // Empty header, whitespace padding, null metadata (treated as absent, as the reference does).
  assert.equal(parseSafetensors(makeFile('{}')).tensors.size, 0);
  assert.deepEqual(parseSafetensors(makeFile('{"__metadata__":null} \n\t')).metadata, {});
  // A metadata key called __proto__ stays an ordinary key.
  const meta = parseSafetensors(makeFile('{"__metadata__":{"__proto__":"x"}}')).metadata;
  assert.deepEqual(Object.keys(meta), ['__proto__']);
  assert.equal(Object.getPrototypeOf(meta), Object.prototype);
  // So does a tensor called __proto__.
  assert.deepEqual([...parseSafetensors(makeFile(`{"__proto__":${entry('U8', [1], [0, 1])}}`, [5])).tensors.keys()], ['__proto__']);
  // Works on a view that does not start at the beginning of its ArrayBuffer.
  const file = makeFile(`{"a":${entry('U8', [2], [0, 2])}}`, [7, 9]);
  const padded = new Uint8Array(file.length + 3);
  padded.set(file, 3);
  assert.deepEqual(bytesOf(parseSafetensors(padded.subarray(3)).tensors.get('a')!.data), [7, 9]);
});

test('the writer refuses tensors it could not write validly', () => {
  const t = fromTypedArray('F32', [2], new Float32Array(2));
  const rejects = (tensors: [string, RawTensor][], pattern: RegExp, meta?: Record<string, string>) =>
    assert.throws(() => serializeSafetensors(tensors, meta), (e: unknown) => e instanceof SafetensorsError && pattern.test(e.message));
  rejects([['a', { ...t, shape: [3] }]], /tensor "a": data has 8 bytes but shape \[3\] x F32 needs 12/);
  rejects([['a', { ...t, dtype: 'F8' as SafeDType }]], /unknown dtype "F8"/);
  rejects([['a', { ...t, shape: [-2] }]], /non-negative/);
  rejects([['a', t], ['a', t]], /duplicate tensor "a"/);
  rejects([['__metadata__', t]], /invalid tensor name/);
  rejects([['\ud800', t]], /invalid tensor name/);
  rejects([], /metadata "k"/, { k: 3 as unknown as string });
  assert.throws(() => fromTypedArray('F32', [3], new Float32Array(2)), SafetensorsError);
  assert.throws(() => toTypedArray({ dtype: 'F32', shape: [], data: new Uint8Array(3) }), SafetensorsError);
});

test('file round trip is atomic and errors name the path', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'civet-st-'));
  try {
    const file = path.join(dir, 'sub', 'model.safetensors');
    const tensors = new Map([['w', fromTypedArray('F64', [2], new Float64Array([1, -1]))]]);
    writeSafetensorsFile(file, tensors, { step: '7' });
    writeSafetensorsFile(file, tensors, { step: '8' }); // overwrite in place
    assert.deepEqual(fs.readdirSync(path.dirname(file)), ['model.safetensors']); // no temp files left
    assert.deepEqual(new Uint8Array(fs.readFileSync(file)), concat(serializeSafetensors(tensors, { step: '8' })));
    const back = readSafetensorsFile(file);
    assert.deepEqual(back.metadata, { step: '8' });
    assert.deepEqual(values(back.tensors.get('w')!), [1, -1]);

    const missing = path.join(dir, 'nope.safetensors');
    assert.throws(() => readSafetensorsFile(missing), (e: unknown) =>
      e instanceof SafetensorsError && e.message.startsWith(`${missing}: `) && /ENOENT/.test(e.message));
    fs.writeFileSync(path.join(dir, 'short.safetensors'), 'abc');
    assert.throws(() => readSafetensorsFile(path.join(dir, 'short.safetensors')),
      (e: unknown) => e instanceof SafetensorsError && e.message.startsWith(path.join(dir, 'short.safetensors')) && /truncated/.test(e.message));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

// ---- Fuzzing ---------------------------------------------------------------------------------

/** mulberry32: tiny deterministic PRNG so failures reproduce. */
function mulberry32(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Json = any; // mutated headers are arbitrary JSON

function makeMutator(base: Uint8Array, rand: () => number) {
  const int = (n: number) => Math.floor(rand() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)];
  const n = Number(new DataView(base.buffer, base.byteOffset).getBigUint64(0, true));
  const headerObj = JSON.parse(Buffer.from(base.subarray(8, 8 + n)).toString('utf8'));
  const data = base.subarray(8 + n);
  const oddValues: Json[] = [0, 1, 2, 3, 4, 8, 12, 24, -1, 1.5, 2 ** 53, 1e30, '4', null, [], {}, true];
  const dtypes: Json[] = [...DTYPES, 'F8_E4M3', 'U16', 'f32', '', 7, null];
  const chars = Buffer.from('{}[]",:0123456789-.e aZ\\\x00\xff');

  function jsonEdit(h: Json): void {
    const names = Object.keys(h).filter((k) => k !== '__metadata__');
    const a = pick(names);
    const b = pick(names);
    const ea = h[a];
    const isObj = (v: Json) => typeof v === 'object' && v !== null && !Array.isArray(v);
    if (!isObj(ea) || !isObj(h[b])) { // an earlier edit broke the entry; replace it with a plausible one
      h[a] = { dtype: 'U8', shape: [int(4)], data_offsets: [int(4), int(8)] };
      return;
    }
    switch (int(14)) {
      case 0: [ea.data_offsets, h[b].data_offsets] = [h[b].data_offsets, ea.data_offsets]; break;
      case 1: [ea.dtype, h[b].dtype] = [h[b].dtype, ea.dtype]; break;
      case 2: [ea.shape, h[b].shape] = [h[b].shape, ea.shape]; break;
      case 3: ea.dtype = pick(dtypes); break;
      case 4: if (Array.isArray(ea.shape)) ea.shape.push(pick([0, 1, 2, 3])); break;
      case 5: if (Array.isArray(ea.shape)) ea.shape.pop(); break;
      case 6: if (Array.isArray(ea.shape) && ea.shape.length) ea.shape[int(ea.shape.length)] = pick(oddValues); else ea.shape = pick(oddValues); break;
      case 7: if (Array.isArray(ea.data_offsets)) ea.data_offsets[int(2)] += pick([-8, -4, -2, -1, 1, 2, 4, 8]); break;
      case 8: if (Array.isArray(ea.data_offsets)) ea.data_offsets[int(3)] = pick(oddValues); else ea.data_offsets = pick(oddValues); break;
      case 9: if (Array.isArray(ea.data_offsets)) ea.data_offsets.reverse(); break;
      case 10: delete ea[pick(['dtype', 'shape', 'data_offsets'])]; break;
      case 11: if (rand() < 0.5) ea.extra = 1; else h[a] = pick(oddValues); break;
      case 12: if (rand() < 0.5) delete h[a]; else h[`${a}.copy`] = JSON.parse(JSON.stringify(ea)); break;
      case 13: h.__metadata__ = pick([null, [], { k: 1 }, { k: 'v' }, 'str', { '': '' }]); break;
    }
  }

  return function mutate(): Uint8Array {
    const kind = int(6);
    if (kind === 0) { // flip bits / overwrite bytes inside the header
      const out = base.slice();
      for (let k = 1 + int(3); k > 0; k--) {
        const i = 8 + int(n);
        out[i] = rand() < 0.5 ? out[i] ^ (1 << int(8)) : pick([...chars]);
      }
      return out;
    }
    if (kind === 1) return base.slice(0, int(base.length)); // truncation
    if (kind === 2) { // header length field
      const out = base.slice();
      const dv = new DataView(out.buffer);
      const r = int(3);
      if (r === 0) dv.setBigUint64(0, BigInt(Math.max(0, n + int(33) - 16)), true);
      else if (r === 1) out[int(8)] = int(256);
      else dv.setBigUint64(0, BigInt.asUintN(64, BigInt(int(2 ** 32)) << BigInt(int(33))), true);
      return out;
    }
    if (kind === 3) { // data section grows or shrinks
      const extra = int(9) - 4;
      if (extra < 0) return base.slice(0, base.length + extra);
      return Buffer.concat([base, new Uint8Array(extra).fill(0xab)]);
    }
    // JSON-level edits, then re-encode (sometimes without alignment padding).
    const h = JSON.parse(JSON.stringify(headerObj));
    for (let k = 1 + int(3); k > 0; k--) jsonEdit(h);
    let text = JSON.stringify(h);
    if (rand() < 0.5) text += ' '.repeat((8 - (Buffer.byteLength(text) % 8)) % 8);
    return makeFile(text, kind === 5 ? data.subarray(0, Math.max(0, data.length - int(8))) : data);
  };
}

function checkParsed(buf: Uint8Array, res: ReturnType<typeof parseSafetensors>): void {
  const n = Number(new DataView(buf.buffer, buf.byteOffset).getBigUint64(0, true));
  const lo = buf.byteOffset + 8 + n;
  const hi = buf.byteOffset + buf.length;
  let covered = 0;
  for (const [name, t] of res.tensors) {
    assert.ok(DTYPES.includes(t.dtype), name);
    assert.equal(t.data.buffer, buf.buffer, name);
    assert.ok(t.data.byteOffset >= lo && t.data.byteOffset + t.data.byteLength <= hi, `${name} out of bounds`);
    const elems = t.shape.reduce((p, d) => p * d, 1);
    assert.ok(t.shape.every((d) => Number.isSafeInteger(d) && d >= 0), name);
    assert.equal(t.data.byteLength, elems * DTYPE_SIZES[t.dtype], name);
    assert.equal(toTypedArray(t).length, elems, name);
    covered += t.data.byteLength;
  }
  assert.equal(covered, hi - lo); // no holes, no overlaps (given every view is in bounds)
  for (const v of Object.values(res.metadata)) assert.equal(typeof v, 'string');
}

test('fuzz: 12,000 mutated files either parse consistently or throw SafetensorsError', () => {
  const base = concat(serializeSafetensors([
    ['w', fromTypedArray('F32', [2, 3], new Float32Array([1, 2, 3, 4, 5, 6]))],
    ['b', fromTypedArray('F32', [3], new Float32Array([-1, 0, 1]))],
    ['ids', fromTypedArray('I64', [2], new BigInt64Array([5n, -5n]))],
    ['half', fromTypedArray('F16', [2, 2], new Uint16Array([1, 2, 3, 4]))],
    ['mask', fromTypedArray('BOOL', [4], new Uint8Array([1, 0, 0, 1]))],
    ['n', fromTypedArray('I32', [], new Int32Array([9]))],
    ['none', fromTypedArray('U8', [0], new Uint8Array(0))],
  ], { epoch: '3' }));
  const reference = new Uint8Array(fs.readFileSync(path.join(FIXTURES, 'reference.safetensors')));
  const stats = { ok: 0, rejected: 0 };
  const messages = new Set<string>();
  for (const [seed, file, count] of [[1, base, 8000], [2, reference, 4000]] as const) {
    const rand = mulberry32(seed);
    const mutate = makeMutator(file, rand);
    for (let i = 0; i < count; i++) {
      const buf = mutate();
      let res: ReturnType<typeof parseSafetensors> | undefined;
      try {
        res = parseSafetensors(buf, 'fuzz');
      } catch (err) {
        if (!(err instanceof SafetensorsError)) {
          assert.fail(`seed ${seed} case ${i}: non-SafetensorsError ${String(err)}\n${Buffer.from(buf).toString('latin1')}`);
        }
        assert.ok(err.message.startsWith('fuzz: '));
        messages.add(err.message.replace(/fuzz: |tensor "[^"]*"|\d+|"[^"]*"/g, '').slice(0, 30));
        stats.rejected++;
        continue;
      }
      checkParsed(buf, res);
      stats.ok++;
    }
  }
  // The mutations must exercise both outcomes and many distinct error paths.
  assert.ok(stats.ok > 200, JSON.stringify(stats));
  assert.ok(stats.rejected > 5000, JSON.stringify(stats));
  assert.ok(messages.size >= 15, [...messages].join('\n'));
});

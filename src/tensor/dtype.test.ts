// Creation in every dtype and round-trips through typed arrays and nested arrays.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DType, cudaAvailable, tensor, zeros, ones, full, empty, zerosLike, onesLike, fullLike, randn, fromTypedArray, scalarTensor, tidy } from './index';
import { assertNoLeak } from './testing';

const DTYPES: DType[] = ['float32', 'float64', 'float16', 'bfloat16', 'int64', 'int32', 'uint8', 'bool'];
const ARRAY: Record<string, string> = {
  float32: 'Float32Array', float64: 'Float64Array', float16: 'Uint16Array', bfloat16: 'Uint16Array',
  int64: 'BigInt64Array', int32: 'Int32Array', uint8: 'Uint8Array', bool: 'Uint8Array', int16: 'Int16Array', int8: 'Int8Array',
};
const t = (name: string, fn: () => void) => test(name, () => assertNoLeak(() => tidy(fn), name));

t('factories create each dtype with the right contents', () => {
  for (const d of DTYPES) {
    const one = d === 'bool' ? true : 1;
    const z = zeros([2, 3], { dtype: d });
    assert.equal(z.dtype, d);
    assert.deepEqual(z.shape, [2, 3]);
    assert.deepEqual(z.toArray(), [[0, 0, 0], [0, 0, 0]].map((r) => r.map(() => (d === 'bool' ? false : 0))), d);
    assert.deepEqual(ones([2], { dtype: d }).toArray(), [one, one], d);
    assert.deepEqual(full([1, 2], 1, { dtype: d }).toArray(), [[one, one]], d);
    assert.equal(empty([3], { dtype: d }).dtype, d);
    assert.equal(zerosLike(z).dtype, d);
    assert.equal(onesLike(z, { dtype: 'float64' }).dtype, 'float64');
    assert.equal(fullLike(z, 1).dtype, d);
    assert.equal(z.toTypedArray().constructor.name, ARRAY[d], d);
  }
  assert.equal(scalarTensor(2.5).dtype, 'float32');
  assert.deepEqual(scalarTensor(2.5).shape, []);
  assert.equal(randn([2], { dtype: 'float16' }).dtype, 'float16');
  assert.equal(randn([2], { dtype: 'bfloat16' }).dtype, 'bfloat16');
});

t('tensor() from nested arrays in each dtype round-trips through toArray and toTypedArray', () => {
  const data = [[1, 0, 2], [3, 4, 5]];
  for (const d of DTYPES) {
    const x = tensor(data, { dtype: d });
    assert.equal(x.dtype, d);
    assert.deepEqual(x.shape, [2, 3]);
    const expected = d === 'bool' ? data.map((r) => r.map((v) => v !== 0)) : data;
    assert.deepEqual(x.toArray(), expected, d);
    const flat = x.toTypedArray();
    assert.equal(flat.constructor.name, ARRAY[d], d);
    // back through fromTypedArray with the same dtype
    const y = fromTypedArray(flat, [2, 3], { dtype: d });
    assert.equal(y.dtype, d);
    assert.deepEqual(y.toArray(), expected, d);
  }
  // raw half-precision bits
  assert.deepEqual(Array.from(tensor([1, 2, -0.5], { dtype: 'float16' }).toTypedArray() as Uint16Array), [0x3c00, 0x4000, 0xb800]);
  assert.deepEqual(Array.from(tensor([1, 2], { dtype: 'bfloat16' }).toTypedArray() as Uint16Array), [0x3f80, 0x4000]);
  // bool tensors hold 0/1 bytes whatever truthy numbers they were made from
  assert.deepEqual(Array.from(tensor([2, 0, -1], { dtype: 'bool' }).toTypedArray() as Uint16Array), [1, 0, 1]);
  assert.deepEqual(Array.from(fromTypedArray(new Uint8Array([2, 0, 255]), [3], { dtype: 'bool' }).toTypedArray() as Uint16Array), [1, 0, 1]);
  assert.deepEqual(Array.from(full([2], 3, { dtype: 'bool' }).toTypedArray() as Uint16Array), [1, 1]);
});

t('fromTypedArray: natural dtypes, conversions, shapes; data is copied', () => {
  const cases: [ArrayBufferView, DType][] = [
    [new Float32Array([1.5, -2]), 'float32'], [new Float64Array([1.5, -2]), 'float64'], [new BigInt64Array([3n, -4n]), 'int64'],
    [new Int32Array([3, -4]), 'int32'], [new Int16Array([3, -4]), 'int16'], [new Int8Array([3, -4]), 'int8'], [new Uint8Array([3, 4]), 'uint8'],
  ];
  for (const [arr, d] of cases) {
    const x = fromTypedArray(arr);
    assert.equal(x.dtype, d);
    assert.deepEqual(x.shape, [2]);
    assert.deepEqual(Array.from(x.toTypedArray() as ArrayLike<unknown>), Array.from(arr as unknown as ArrayLike<unknown>), d);
  }
  const src = new Float32Array([1, 2, 3, 4, 5, 6]);
  const x = fromTypedArray(src, [2, 3]);
  src[0] = 100;
  assert.deepEqual(x.toArray(), [[1, 2, 3], [4, 5, 6]]);
  // a subarray view starts at its own offset
  const sub = new Float64Array([9, 8, 7, 6]).subarray(1, 3);
  assert.deepEqual(fromTypedArray(sub).toArray(), [8, 7]);
  // converted on the way in
  const c = fromTypedArray(new Int32Array([1, 2]), [2], { dtype: 'float64' });
  assert.equal(c.dtype, 'float64');
  assert.deepEqual(c.toArray(), [1, 2]);
  const h = fromTypedArray(new Uint16Array([0x3c00, 0xc000]), [2], { dtype: 'float16' });
  assert.deepEqual(h.toArray(), [1, -2]);
  const bf = fromTypedArray(new Uint16Array([0x3f80]), [1], { dtype: 'bfloat16' });
  assert.deepEqual(bf.toArray(), [1]);
  assert.throws(() => fromTypedArray(new Uint16Array([1])), /no civet dtype for Uint16Array/);
  assert.equal(fromTypedArray(new Float32Array([1, 2]), [2], { requiresGrad: true }).requiresGrad, true);
});

t('tensor(): nested arrays, scalars, booleans, empty; float32 by default', () => {
  assert.deepEqual(tensor([[[1], [2]], [[3], [4]]]).shape, [2, 2, 1]);
  assert.equal(tensor([1, 2]).dtype, 'float32');
  const s = tensor(3.5);
  assert.deepEqual(s.shape, []);
  assert.equal(s.item(), 3.5);
  const b = tensor([[true, false]]);
  assert.equal(b.dtype, 'bool');
  assert.deepEqual(b.toArray(), [[true, false]]);
  assert.deepEqual(tensor([]).shape, [0]);
  assert.deepEqual(tensor([1.25, -3], { dtype: 'float64' }).toArray(), [1.25, -3]);
  assert.deepEqual(tensor([1.9, -1.9], { dtype: 'int64' }).toArray(), [1, -1], 'int64 truncates like a C cast');
  assert.deepEqual(tensor([2 ** 40], { dtype: 'int64' }).toArray(), [2 ** 40]);
  assert.deepEqual(tensor(new Float64Array([1, 2])).toArray(), [1, 2]);
  assert.equal(tensor([1, 2], { requiresGrad: true }).requiresGrad, true);
  assert.equal(tensor([1, 2], { dtype: 'float16', requiresGrad: true }).requiresGrad, true);
  assert.equal(tensor([1, 2], { dtype: 'float16', requiresGrad: true }).isLeaf, true);
});

t('tensor(): ragged and non-numeric nested arrays are rejected with a clear TypeError', () => {
  assert.throws(() => tensor([[1, 2], [3]]), (e: unknown) => e instanceof TypeError && /ragged nested array: expected length 2 at dimension 1, got 1/.test(e.message));
  assert.throws(() => tensor([[1, 2], 3] as any), /ragged nested array: expected length 2 at dimension 1, got number/);
  assert.throws(() => tensor([1, [2]] as any), /ragged nested array \(too deep at dimension 1\)/);
  assert.throws(() => tensor([1, 'a'] as any), /expected numbers or booleans, got string/);
  assert.throws(() => tensor([1, null] as any), /expected numbers or booleans, got object/);
  assert.throws(() => tensor([[1, 2], [3, 4]], { dtype: 'complex64' as any }), /unknown dtype 'complex64'/);
});

t('dtype conversions between all dtypes keep the values', () => {
  const x = tensor([0, 1, 2, 3]);
  for (const a of DTYPES) {
    for (const b of DTYPES) {
      const y = x.to(a).to(b);
      assert.equal(y.dtype, b);
      const expected = a === 'bool' || b === 'bool' ? [0, 1, 1, 1] : [0, 1, 2, 3];
      assert.deepEqual(Array.from(y.toFloat64Array()), expected, `${a} → ${b}`);
    }
  }
});

test('CUDA round-trip keeps dtype and values (skipped without CUDA)', { skip: !cudaAvailable() && 'no CUDA device' }, () => {
  assertNoLeak(() => tidy(() => {
    for (const d of DTYPES) {
      const x = tensor([[1, 0], [2, 3]], { dtype: d });
      const g = x.cuda();
      assert.match(g.device, /^cuda/);
      assert.equal(g.dtype, d);
      assert.deepEqual(g.cpu().toArray(), x.toArray(), d);
      assert.deepEqual(Array.from(g.toTypedArray() as Uint16Array), Array.from(x.toTypedArray() as Uint16Array), d);
    }
    const a = tensor([1, 2, 3], { device: 'cuda' });
    assert.deepEqual(a.add(1).mul(2).toArray(), [4, 6, 8]);
  }));
});

// Bad input becomes a JS Error (never a crash) whose message says what was wrong.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor, tensor, randn, zeros, ones, fromTypedArray, tidy, cat, stack, where, einsum, randint, linspace, Generator, F } from './index';
import { assertNoLeak, assertThrowsMessage } from './testing';

/** Each case: the call and the pattern its message must match. Every case runs in its own tidy. */
function cases(name: string, list: [string, () => unknown, RegExp][]): void {
  test(name, () => {
    assertNoLeak(() => {
      for (const [label, fn, re] of list) tidy(() => assertThrowsMessage(fn, re, label));
    }, name);
  });
}

const f = (shape: number[]) => randn(shape);
const i64 = (data: any) => tensor(data, { dtype: 'int64' });

cases('shape mismatches', [
  ['matmul', () => f([2, 3]).matmul(f([4, 5])), /mat1 and mat2 shapes cannot be multiplied \(2x3 and 4x5\)/],
  ['mm', () => f([2, 3]).mm(f([2, 3])), /cannot be multiplied \(2x3 and 2x3\)/],
  ['bmm batch', () => f([2, 2, 3]).bmm(f([3, 3, 2])), /batch/i],
  ['linear', () => F.linear(f([2, 3]), f([4, 5])), /cannot be multiplied \(2x3 and 5x4\)/],
  ['add non-broadcastable', () => f([2, 3]).add(f([4, 5])), /size of tensor a \(3\) must match the size of tensor b \(5\) at non-singleton dimension 1/],
  ['mul non-broadcastable', () => f([3]).mul(f([2])), /size of tensor a \(3\) must match the size of tensor b \(2\)/],
  ['mse_loss shapes', () => F.mse_loss(f([2, 3]), f([3, 2])), /must match the size of tensor b/],
  ['conv2d wrong channels', () => F.conv2d(f([1, 3, 5, 5]), f([2, 4, 3, 3])), /weight of size \[2, 4, 3, 3\], expected input\[1, 3, 5, 5\] to have 4 channels, but got 3 channels/],
  ['conv2d kernel bigger than input', () => F.conv2d(f([1, 1, 2, 2]), f([1, 1, 3, 3])), /Kernel size can't be greater than actual input size/],
  ['conv2d groups not dividing channels', () => F.conv2d(f([1, 3, 4, 4]), f([2, 1, 1, 1]), null, { groups: 2 }), /groups|divisible/i],
  ['cat mismatched dims', () => cat([f([2, 3]), f([2, 4])]), /Sizes of tensors must match except in dimension 0\. Expected size 3 but got size 4 for tensor number 1/],
  ['cat different ranks', () => cat([f([2, 3]), f([3])]), /Tensors must have same number of dimensions|dimension/],
  ['cat empty list', () => cat([]), /cat: expected a non-empty list of tensors/],
  ['stack unequal', () => stack([f([2]), f([3])]), /stack expects each tensor to be equal size, but got \[2\] at entry 0 and \[3\] at entry 1/],
  ['reshape wrong numel', () => f([2, 3]).reshape(7), /shape '\[7\]' is invalid for input of size 6/],
  ['view incompatible strides', () => f([2, 3]).t().view(6), /view size is not compatible .* Use \.reshape/],
  ['expand', () => f([2, 3]).expand(4, 3), /expanded size of the tensor \(4\) must match the existing size \(2\)/],
  ['permute wrong length', () => f([2, 3]).permute(0), /number of dimensions in the tensor input does not match the length of the desired ordering/],
  ['narrow past the end', () => f([3]).narrow(0, 2, 5), /start \(2\) \+ length \(5\) exceeds dimension size \(3\)/],
  ['einsum operand count', () => einsum('ij,jk->ik', f([2, 3])), /fewer operands were provided than specified in the equation/],
  ['einsum sizes', () => einsum('ij,jk->ik', f([2, 3]), f([4, 2])), /subscript j has size 4 for operand 1/],
  ['interpolate needs 4-d', () => F.interpolate(f([1, 2, 3]), { size: 4 }), /4-d input \(N,C,H,W\)/],
  ['sdpa causal with mask', () => F.scaled_dot_product_attention(f([1, 2, 3]), f([1, 2, 3]), f([1, 2, 3]), { is_causal: true, attn_mask: f([2, 2]) }), /attn_mask (must|should) not be (given|set) when is_causal/],
]);

cases('wrong dtypes', [
  ['index_select with a float index', () => f([3, 4]).indexSelect(0, tensor([0, 1])), /index_select\(\): Expected dtype int32 or int64 for index/],
  ['gather with a float index', () => f([3, 4]).gather(1, tensor([[0]])), /gather.*index.*int64|Expected dtype int64 for index/i],
  ['cross_entropy float class indices', () => F.cross_entropy(f([3, 4]), tensor([0, 1, 2])), /floating-point target holds class probabilities and must have the input's shape \[3, 4\], got \[3\] \(class indices must be int64\)/],
  ['cross_entropy float target of another shape', () => F.cross_entropy(f([3, 4]), tensor([[0, 1], [1, 2]])), /must have the input's shape \[3, 4\], got \[2, 2\]/],
  ['cross_entropy index target of the wrong shape', () => F.cross_entropy(f([3, 4]), i64([[0, 1], [1, 2]])), /class-index target of shape \[2, 2\] does not fit input \[3, 4\]/],
  ['nll_loss float target', () => F.nll_loss(f([3, 4]), tensor([0, 1, 2])), /expected scalar type Long but found Float/],
  ['embedding with float indices', () => F.embedding(tensor([0, 1]), f([3, 4])), /'indices' to have one of the following scalar types: Long, Int; but got .*Float/],
  ['where with a float condition', () => where(f([2]), f([2]), 0), /where expected condition to be a boolean tensor, but got a tensor with dtype Float/],
  ['unknown dtype name', () => zeros([2], { dtype: 'float128' as any }), /unknown dtype 'float128' \(expected one of/],
  ['to() an unknown dtype', () => f([2]).to('complex32' as any), /unknown dtype 'complex32'/],
  ['binary_cross_entropy outside [0, 1]', () => F.binary_cross_entropy(tensor([1.5]), tensor([1])), /all elements of input should be between 0 and 1/],
]);

cases('out-of-range indices and dims', [
  ['select', () => f([3, 4]).select(0, 5), /select\(\): index 5 out of range for tensor of size \[3, 4\] at dimension 0/],
  ['select dim', () => f([3, 4]).select(2, 0), /Dimension out of range/],
  ['gather', () => f([3, 4]).gather(1, i64([[9]])), /index 9 is out of bounds for dimension 1 with size 4/],
  ['gather negative', () => f([3, 4]).gather(1, i64([[-1]])), /index -1 is out of bounds for dimension 1 with size 4/],
  ['indexSelect', () => f([3, 4]).indexSelect(0, i64([7])), /index out of range in self/],
  ['indexSelect 2-d index', () => f([3]).indexSelect(0, i64([[0]])), /Index is supposed to be a vector/],
  ['scatter', () => zeros([2, 2]).scatter(1, i64([[5]]), 1), /index 5 is out of bounds for dimension 1 with size 2/],
  ['embedding', () => F.embedding(i64([0, 7]), f([3, 2])), /index out of range in self/],
  ['cross_entropy class out of range', () => F.cross_entropy(f([2, 3]), i64([0, 5])), /Target 5 is out of bounds/],
  ['sum dim', () => f([2, 3]).sum(5), /Dimension out of range \(expected to be in range of \[-2, 1\], but got 5\)/],
  ['softmax dim', () => F.softmax(f([2, 3]), 3), /Dimension out of range/],
  ['squeeze dim', () => f([3]).squeeze(2), /Dimension out of range/],
  ['size(dim)', () => f([3]).size(4), /size\(4\): dimension out of range for a 1-d tensor/],
]);

cases('bad arguments: devices, shapes, data, numbers where tensors go, undefined', [
  ['invalid device string', () => zeros([2], { device: 'gpu' }), /invalid device 'gpu' \(expected 'cpu', 'cuda' or 'cuda:N'\)/],
  ['invalid device in to()', () => f([2]).to({ device: 'tpu:0' }), /invalid device 'tpu:0'/],
  ['negative shape', () => zeros([-1]), /negative dimension -1/],
  ['fractional shape', () => zeros([2.5]), /expected an integer for shape, got 2\.5/],
  ['shape not an array', () => zeros(undefined as any), /expected an array of integers for shape/],
  ['backward on a non-scalar without gradient', () => f([3]).requiresGrad_().mul(2).backward(), /grad can be implicitly created only for scalar outputs; pass a gradient for shape \[3\]/],
  ['backward without grad', () => f([1]).sum().backward(), /does not require grad/],
  ['item() on several elements', () => f([3]).item(), /item\(\): tensor has 3 elements, expected exactly 1/],
  ['item() on an empty tensor', () => zeros([0]).item(), /item\(\): tensor has 0 elements/],
  ['fromTypedArray shape vs data length', () => fromTypedArray(new Float32Array(5), [2, 3]), /shape needs 24 bytes of Float but the data has 20/],
  ['fromTypedArray int64 shape', () => fromTypedArray(new BigInt64Array(2), [3]), /shape needs 24 bytes of Long but the data has 16/],
  ['number where a tensor is expected (matmul)', () => f([2, 2]).matmul(3 as any), /matmul: expected a Tensor, got number 3/],
  ['number as an index tensor', () => f([2, 2]).indexSelect(0, 1 as any), /indexSelect index: expected a Tensor, got number 1/],
  ['number as conv weight', () => F.conv2d(f([1, 1, 3, 3]), 3 as any), /weight: expected a Tensor, got number 3/],
  ['numbers in a tensor list', () => cat([1, 2] as any), /expected a tensor for tensor list element/],
  ['a string as an operand', () => f([2]).add('1' as any), /expected a Tensor or a number, got string 1/],
  ['a plain array as an operand', () => f([2]).mul([1, 2] as any), /expected a Tensor or a number, got an array/],
  ['undefined operand', () => f([2]).add(undefined as any), /expected a Tensor or a number, got undefined/],
  ['undefined index', () => f([2]).gather(0, undefined as any), /gather index: expected a Tensor, got undefined/],
  ['undefined mask', () => f([2]).maskedFill(undefined as any, 0), /maskedFill mask: expected a Tensor, got undefined/],
  ['undefined shape', () => f([2, 3]).reshape(undefined as any), /expected a number for shape/],
  ['undefined dim', () => (F.softmax as any)(f([2, 3])), /expected a number for dim/],
  ['undefined functional input', () => F.relu(undefined as any), /x: expected a Tensor, got undefined/],
  ['null tensor argument', () => f([2]).matmul(null as any), /matmul: expected a Tensor, got null/],
  ['randint low >= high', () => randint(5, 2, [3]), /expects 'from' to be less than 'to', but got from=5 >= to=2/],
  ['linspace negative steps', () => linspace(0, 1, -1), /number of steps must be non-negative/],
  ['Generator seed', () => new Generator(-3), /Generator seed must be a non-negative integer, got -3/],
  ['batch_norm eval without running stats', () => F.batch_norm(f([2, 3]), null, null), /running_mean and running_var are required in eval mode/],
  ['batch_norm training with one value per channel', () => F.batch_norm(f([1, 3]), null, null, { training: true }), /expected more than 1 value per channel when training, got input of shape \[1, 3\]/],
  ['pad odd length', () => F.pad(f([2, 3]), [1]), /padding length must be even, got 1/],
  ['pad unknown mode', () => F.pad(f([1, 2, 3]), [1, 1], 'circular' as any), /unknown mode 'circular'/],
  ['unknown reduction', () => F.kl_div(f([2]), f([2]), { reduction: 'avg' as any }), /reduction must be 'none', 'mean' or 'sum', got 'avg'/],
  ['label_smoothing out of range', () => F.cross_entropy(f([2, 3]), i64([0, 1]), { label_smoothing: -0.1 }), /label_smoothing must be in \[0, 1\]/],
  ['dropout p', () => F.dropout(f([2]), 2), /dropout probability has to be between 0 and 1, but got 2/],
  ['interpolate with both size and scale', () => F.interpolate(f([1, 1, 2, 2]), { size: 4, scale_factor: 2 }), /only one of size or scale_factor/],
]);

test('errors leave the engine usable and do not leak', () => {
  assertNoLeak(() => {
    for (let i = 0; i < 30; i++) {
      tidy(() => assert.throws(() => randn([2, 3]).matmul(randn([4, 5]))));
    }
    tidy(() => assert.deepEqual(ones([2]).add(1).toArray(), [2, 2]));
  });
});

void Tensor;

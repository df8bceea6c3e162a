// From uint8 NHWC pixels to a normalised float32 NCHW batch tensor, once per batch.
import { Tensor, fromTypedArray, tidy, F } from '../tensor';

export interface Normalize { mean: number[]; std: number[] }
/** Fashion-MNIST's train-set statistics. */
export const FMNIST_NORM: Normalize = { mean: [0.2860], std: [0.3530] };

/**
 * images: N·H·W·C bytes. Returns [N, C', H', W'] float32 where C' = outChannels (grayscale is
 * repeated to 3 channels for RGB models) and H', W' = size when given (bilinear resize).
 */
export function imagesToTensor(images: Uint8Array, n: number, h: number, w: number, c: number,
  o: { norm?: Normalize; outChannels?: number; size?: number } = {}): Tensor {
  return tidy(() => {
    let x = fromTypedArray(images, [n, h, w, c]).permute(0, 3, 1, 2).to('float32').div(255);
    if (o.norm) {
      const mean = fromTypedArray(Float32Array.from(o.norm.mean), [1, c, 1, 1]);
      const std = fromTypedArray(Float32Array.from(o.norm.std), [1, c, 1, 1]);
      x = x.sub(mean).div(std);
    }
    if (o.size && (o.size !== h || o.size !== w)) x = F.interpolate(x, { size: [o.size, o.size], mode: 'bilinear', align_corners: false });
    if (o.outChannels && o.outChannels !== c) {
      if (c !== 1) throw new Error(`cannot turn ${c}-channel images into ${o.outChannels} channels`);
      x = x.expand(n, o.outChannels, x.shape[2], x.shape[3]);
    }
    return x.contiguous();
  });
}

export function labelsToTensor(labels: Int32Array): Tensor {
  return fromTypedArray(labels).to('int64');
}

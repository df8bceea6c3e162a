// timm's PatchEmbed: a Conv2d with kernel = stride = patch size cuts the image into
// non-overlapping patches and projects each to embedDim; the grid is flattened to tokens.
import { Tensor } from '../../tensor';
import { Module } from '../module';
import { Conv2d } from './conv';

export type Size2 = number | [number, number];
export const size2 = (s: Size2): [number, number] => (typeof s === 'number' ? [s, s] : [s[0], s[1]]);

export interface PatchEmbedOptions {
  imgSize: Size2;
  patchSize: Size2;
  inChans?: number;
  embedDim: number;
  /** flatten [B, D, gh, gw] to tokens [B, gh·gw, D] (default true, as timm) */
  flatten?: boolean;
}

export class PatchEmbed extends Module {
  readonly proj: Conv2d;
  readonly imgSize: [number, number];
  readonly patchSize: [number, number];
  /** patches along height and width */
  readonly gridSize: [number, number];
  readonly numPatches: number;
  readonly flatten: boolean;
  constructor(opts: PatchEmbedOptions) {
    super();
    this.imgSize = size2(opts.imgSize);
    this.patchSize = size2(opts.patchSize);
    const [H, W] = this.imgSize, [ph, pw] = this.patchSize;
    if (!(ph > 0 && pw > 0) || H % ph || W % pw) {
      throw new Error(`PatchEmbed: image size ${H}×${W} is not a whole number of ${ph}×${pw} patches`);
    }
    this.gridSize = [H / ph, W / pw];
    this.numPatches = this.gridSize[0] * this.gridSize[1];
    this.flatten = opts.flatten ?? true;
    this.proj = this.module('proj', new Conv2d(opts.inChans ?? 3, opts.embedDim, this.patchSize, { stride: this.patchSize }));
  }
  forward(x: Tensor): Tensor {
    const [, , H, W] = x.shape;
    if (x.ndim !== 4 || H !== this.imgSize[0] || W !== this.imgSize[1]) {
      throw new Error(`PatchEmbed: expected input [B, C, ${this.imgSize[0]}, ${this.imgSize[1]}], got [${x.shape}] (the position embedding is sized for ${this.imgSize[0]}×${this.imgSize[1]})`);
    }
    const y = this.proj.call(x);                          // [B, D, gh, gw]
    return this.flatten ? y.flatten(2).transpose(1, 2) : y; // [B, gh·gw, D]
  }
}

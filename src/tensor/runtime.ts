// Process-wide settings: threads, seeds, devices, RNG state for checkpoints.
import { native } from './native';
import { Tensor } from './tensor';

export function setNumThreads(n: number): void { native.setNumThreads(n); }
export function getNumThreads(): number { return native.getNumThreads(); }
/** Seeds libtorch's default generator (CPU, and CUDA where present). */
export function manualSeed(seed: number): void {
  if (!Number.isSafeInteger(seed) || seed < 0) throw new RangeError(`manualSeed: seed must be a non-negative integer, got ${seed}`);
  native.manualSeed(seed);
}
export function cudaAvailable(): boolean { return native.cudaAvailable(); }
export function cudaDeviceCount(): number { return native.cudaDeviceCount(); }
export function synchronize(): void { native.cudaSynchronize(); }
/** The default CPU generator's state (uint8 tensor), for checkpoints. */
export function getRngState(): Tensor { return new Tensor(native.getRngState(null)); }
export function setRngState(state: Tensor): void { native.setRngState(state.handle, null); }
export function buildInfo(): { torch: string; cuda: boolean; threads: number; config: string; parallel: string } {
  return native.buildInfo();
}

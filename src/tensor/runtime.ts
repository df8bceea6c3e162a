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

/**
 * Runs fn under autocast (torch.autocast): ops on autocast's lists run in `dtype` (bfloat16 by
 * default) on that device type. Backward belongs outside, as in PyTorch.
 */
export function autocast<T>(fn: () => T, o: { device?: 'cpu' | 'cuda'; dtype?: 'bfloat16' | 'float16'; enabled?: boolean } = {}): T {
  if (o.enabled === false) return fn();
  const dev = o.device ?? 'cpu';
  native.setAutocast(dev, true, o.dtype === 'float16' ? 5 : 15);
  try { return fn(); } finally { native.setAutocast(dev, false, 15); }
}

/** Whether this machine runs bfloat16 natively: a CUDA device, or a CPU with AVX-512 BF16 / AMX. */
export function bf16Supported(device = 'cpu'): boolean {
  if (device.startsWith('cuda')) return cudaAvailable();
  try {
    const flags = require('node:fs').readFileSync('/proc/cpuinfo', 'utf8') as string;
    return /\b(avx512_bf16|amx_bf16)\b/.test(flags);
  } catch { return false; }
}

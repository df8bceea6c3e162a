import type { Command } from './commands';
import { buildInfo, cudaAvailable, cudaDeviceCount } from '../tensor';
import { listModels } from '../models';

export const infoCommand: Command = {
  summary: 'show the libtorch build, threads, devices and registered models',
  usage: 'civet info',
  options: {},
  async run() {
    const b = buildInfo();
    process.stdout.write(`libtorch ${b.torch}, ${b.threads} intra-op threads, CUDA ${cudaAvailable() ? `yes (${cudaDeviceCount()} devices)` : 'no'}\n`);
    process.stdout.write(`models: ${listModels().join(', ') || '(none)'}\n`);
    return 0;
  },
};

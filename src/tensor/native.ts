// Loads civet's Node-API addon (native/). Everything native goes through this one object.
import * as path from 'node:path';
import * as fs from 'node:fs';

export type Handle = { readonly __civetHandle: unique symbol };

function load(): any {
  const root = path.resolve(__dirname, '..', '..', '..');
  const candidates = [
    process.env.CIVET_ADDON,
    path.join(root, 'native', 'build', 'Release', 'civet.node'),
    path.join(root, 'native', 'build', 'Debug', 'civet.node'),
  ].filter((p): p is string => !!p);
  for (const file of candidates) {
    if (fs.existsSync(file)) return require(file);
  }
  throw new Error(
    `civet's native addon is not built (looked for ${candidates.join(', ')}). ` +
      'Run `bash scripts/setup.sh` (or `npm run build:native` once libtorch-dev is installed).',
  );
}

export const native: any = load();

// Intra-op threads default to the machine's cores (libtorch may pick otherwise under cgroups).
const envThreads = Number(process.env.CIVET_THREADS ?? '');
native.setNumThreads(envThreads > 0 ? envThreads : Math.max(1, require('node:os').availableParallelism?.() ?? require('node:os').cpus().length));

export const UNARY: Record<string, number> = Object.fromEntries((native.unaryOps as string[]).map((n, i) => [n, i]));
export const BINARY: Record<string, number> = Object.fromEntries((native.binaryOps as string[]).map((n, i) => [n, i]));

// What a teacher-output cache was computed from (store.ts's header): the teacher's weights, the
// transform config and the dataset. Each is a SHA-256 of the thing itself, not of a file name, so
// retrained weights under the same path, or a re-generated dataset, are other identities.
import * as fs from 'node:fs';
import * as crypto from 'node:crypto';
import { Module } from '../../nn/module';
import { tidy } from '../../tensor';
import type { Teacher } from '../../distill/distiller';
import type { InMemoryDataset } from '../../data/dataset';

const hex16 = (h: crypto.Hash) => h.digest('hex').slice(0, 16);

/** SHA-256 of a module's state dict (names, dtypes, shapes and bytes, in name order). */
export function moduleWeightsHash(m: Module): string {
  const h = crypto.createHash('sha256');
  const sd = m.stateDict();
  for (const name of [...sd.keys()].sort()) {
    const t = sd.get(name)!;
    h.update(`${name}:${t.dtype}:${t.shape.join('x')};`);
    const a = tidy(() => t.to({ device: 'cpu' }).contiguous().toTypedArray()) as ArrayBufferView;
    h.update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  }
  return hex16(h);
}

/** SHA-256 of a file's bytes, read in 8 MiB pieces. */
export function fileHash(file: string): string {
  const h = crypto.createHash('sha256');
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.alloc(8 << 20);
    for (let n; (n = fs.readSync(fd, buf, 0, buf.length, null)) > 0;) h.update(buf.subarray(0, n));
  } finally { fs.closeSync(fd); }
  return hex16(h);
}

/** A teacher's weights identity: its state dict for a civet model (after loading, whatever the
 *  source), else the file it came from (TorchScript). `extra` names what else decides its outputs
 *  (its input convention). */
export function teacherWeightsHash(t: Teacher, file?: string, extra: unknown = null): string {
  const base = t instanceof Module ? moduleWeightsHash(t) : file ? fileHash(file) : null;
  if (base === null) throw new Error(`teacher cache: cannot identify the weights of teacher '${(t as any).name ?? '?'}' (not a civet model and no file)`);
  return hex16(crypto.createHash('sha256').update(JSON.stringify([base, extra])));
}

/** The dataset's identity: its name, size and a SHA-256 of its images and labels. */
export function datasetIdentity(ds: InMemoryDataset): string {
  const h = crypto.createHash('sha256');
  h.update(new Uint8Array(ds.images.buffer, ds.images.byteOffset, ds.images.byteLength));
  h.update(new Uint8Array(ds.labels.buffer, ds.labels.byteOffset, ds.labels.byteLength));
  return `${ds.name}:${ds.length}:${ds.height}x${ds.width}x${ds.channels}:${hex16(h)}`;
}

/** SHA-256 of a transform description (anything JSON: the augmentation config, sizes, normalisation, view-set seed). */
export function transformHash(desc: unknown): string {
  return hex16(crypto.createHash('sha256').update(JSON.stringify(desc)));
}

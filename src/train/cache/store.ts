// On-disk store of teacher outputs, one row of `width` float32 values per (sample, view) slot
// (data/views.ts), addressed directly by slot = index * views + view. Each row keeps its view key,
// so a view whose augmentation parameters changed is a miss, never a stale hit.
//
// Layout of DIR: header.json (what the outputs were computed from: the teacher's weights hash,
// the transform config hash, the dataset's identity, the row shape) and chunk-N.bin files of
// `chunkSlots` rows, each starting with the SHA-256 of its body. A header that does not match
// the run is refused with a message and the store is emptied (rebuilt); a chunk whose checksum
// fails is dropped with a message and its rows are recomputed. Chunks are read with positioned
// reads on first use and written whole, atomically (temporary file + rename). Runs sharing a
// cache may flush at once (a study with --jobs 2): each writes its own temporary file, so every
// chunk on disk is one writer's whole chunk; the later writer's wins, and a row it lacked is a
// miss the next reader recomputes, never a torn or stale row.
//
// What a row holds is the caller's (cached_teacher.ts: full logits, or top-k values, indices and
// the tail's log-mass); `layout` in the header names it, so a cache written in another layout is
// refused like one for other weights. NOT done (issue 13): reduced-precision dense maps (CSKD)
// and named features; rows are float32.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as crypto from 'node:crypto';
import { writeFileAtomic } from '../../util/atomic';

export interface CacheIdentity { weightsHash: string; transformHash: string; dataset: string }
export interface StoreHeader extends CacheIdentity { format: 1; width: number; views: number; samples: number; chunkSlots: number; /** what a row holds (e.g. 'full:10', 'topk:10/1000') */ layout?: string }

const KEY_BYTES = 8;

export class OutputStore {
  private readonly rowBytes: number;
  private readonly chunks = new Map<number, { body: Buffer; dirty: boolean }>();
  readonly header: StoreHeader;

  constructor(readonly dir: string, want: Omit<StoreHeader, 'format' | 'chunkSlots'> & { chunkSlots?: number }, private readonly log: (l: string) => void = () => undefined) {
    this.header = { format: 1, chunkSlots: want.chunkSlots ?? 1024, ...want } as StoreHeader;
    this.rowBytes = KEY_BYTES + 4 * this.header.width;
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, 'header.json');
    if (fs.existsSync(file)) {
      let old: Partial<StoreHeader> = {};
      try { old = JSON.parse(fs.readFileSync(file, 'utf8')); } catch { /* unreadable: rebuilt below */ }
      const diff = (Object.keys(this.header) as (keyof StoreHeader)[]).filter((k) => old[k] !== this.header[k]);
      if (diff.length) {
        this.log(`teacher cache ${dir}: built for another ${diff.map((k) => `${k} (${String(old[k])}, now ${String(this.header[k])})`).join(', ')}; refusing it and rebuilding`);
        for (const f of fs.readdirSync(dir)) if (/^chunk-\d+\.bin$/.test(f)) fs.rmSync(path.join(dir, f));
      }
    }
    writeFileAtomic(file, JSON.stringify(this.header, null, 2));
  }

  private chunk(c: number): { body: Buffer; dirty: boolean } {
    let ch = this.chunks.get(c);
    if (ch) return ch;
    const size = this.header.chunkSlots * this.rowBytes;
    const file = path.join(this.dir, `chunk-${c}.bin`);
    let body = Buffer.alloc(size);
    if (fs.existsSync(file)) {
      const fd = fs.openSync(file, 'r');
      try {
        const buf = Buffer.alloc(32 + size);
        const n = fs.readSync(fd, buf, 0, buf.length, 0);
        const sum = crypto.createHash('sha256').update(buf.subarray(32, 32 + size)).digest();
        if (n === buf.length && sum.equals(buf.subarray(0, 32))) body = buf.subarray(32);
        else this.log(`teacher cache ${file}: checksum mismatch (corrupted chunk); dropping it, its outputs are recomputed`);
      } finally { fs.closeSync(fd); }
    }
    ch = { body, dirty: false };
    this.chunks.set(c, ch);
    return ch;
  }

  private locate(index: number, view: number): { ch: { body: Buffer; dirty: boolean }; off: number } {
    const h = this.header;
    if (!(index >= 0 && index < h.samples && view >= 0 && view < h.views)) throw new RangeError(`teacher cache: slot (sample ${index}, view ${view}) outside ${h.samples} samples × ${h.views} views`);
    const slot = index * h.views + view;
    return { ch: this.chunk(Math.floor(slot / h.chunkSlots)), off: (slot % h.chunkSlots) * this.rowBytes };
  }

  /** The stored row of this view, or null (never stored, other key, dropped chunk). */
  get(index: number, view: number, key: string): Float32Array | null {
    const { ch, off } = this.locate(index, view);
    if (!ch.body.subarray(off, off + KEY_BYTES).equals(Buffer.from(key, 'hex'))) return null;
    const out = new Float32Array(this.header.width);
    Buffer.from(out.buffer).set(ch.body.subarray(off + KEY_BYTES, off + this.rowBytes));
    return out;
  }

  put(index: number, view: number, key: string, row: Float32Array): void {
    if (row.length !== this.header.width) throw new Error(`teacher cache: row of ${row.length} values, the store holds ${this.header.width}`);
    const { ch, off } = this.locate(index, view);
    Buffer.from(key, 'hex').copy(ch.body, off);
    Buffer.from(row.buffer, row.byteOffset, row.byteLength).copy(ch.body, off + KEY_BYTES);
    ch.dirty = true;
  }

  /** Writes the changed chunks (checksum first, then the body; temporary file + rename). */
  flush(): void {
    for (const [c, ch] of this.chunks) {
      if (!ch.dirty) continue;
      const file = path.join(this.dir, `chunk-${c}.bin`);
      const sum = crypto.createHash('sha256').update(ch.body).digest();
      const tmp = `${file}.${process.pid}-${crypto.randomBytes(4).toString('hex')}.tmp`;
      fs.writeFileSync(tmp, Buffer.concat([sum, ch.body]));
      fs.renameSync(tmp, file);
      ch.dirty = false;
    }
  }
}

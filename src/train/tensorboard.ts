// TensorBoard event-file writer and reader with no dependencies.
//
// An event file is a sequence of TFRecords:
//   u64 LE length | u32 masked-CRC32C(length bytes) | data | u32 masked-CRC32C(data)
// and each record's data is a serialized `tensorflow.Event` protobuf. We only need scalars, so the
// three messages involved are hand-encoded here rather than pulling in a protobuf library:
//   Event   { double wall_time = 1; int64 step = 2; string file_version = 3; Summary summary = 5; }
//   Summary { repeated Value value = 1; }
//   Value   { string tag = 1; float simple_value = 2; }
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

// ---- CRC32C (Castagnoli, reflected polynomial 0x82F63B78) ----

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32c(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (let i = 0; i < data.length; i++) crc = CRC_TABLE[(crc ^ data[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** TFRecord masks CRCs so that a CRC stored inside CRC'd data does not degrade the check. */
export function maskedCrc32c(data: Uint8Array): number {
  const crc = crc32c(data);
  return ((((crc >>> 15) | (crc << 17)) >>> 0) + 0xa282ead8) >>> 0;
}

// ---- protobuf encoding (just the wire types we use) ----

class PbWriter {
  private parts: number[] = [];
  varint(v: bigint): void {
    // int64 fields encode negatives as 10-byte two's complement varints.
    let u = BigInt.asUintN(64, v);
    while (u >= 0x80n) {
      this.parts.push(Number(u & 0x7fn) | 0x80);
      u >>= 7n;
    }
    this.parts.push(Number(u));
  }
  tag(field: number, wire: number): void {
    this.varint(BigInt((field << 3) | wire));
  }
  double(field: number, v: number): void {
    this.tag(field, 1);
    const b = Buffer.alloc(8);
    b.writeDoubleLE(v);
    this.parts.push(...b);
  }
  float(field: number, v: number): void {
    this.tag(field, 5);
    const b = Buffer.alloc(4);
    b.writeFloatLE(v);
    this.parts.push(...b);
  }
  bytes(field: number, v: Uint8Array): void {
    this.tag(field, 2);
    this.varint(BigInt(v.length));
    this.parts.push(...v);
  }
  finish(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}

function encodeEvent(ev: { wallTime: number; step?: number; fileVersion?: string; scalars?: [string, number][] }): Uint8Array {
  const w = new PbWriter();
  w.double(1, ev.wallTime);
  if (ev.step !== undefined && ev.step !== 0) {
    w.tag(2, 0);
    w.varint(BigInt(Math.trunc(ev.step)));
  }
  if (ev.fileVersion !== undefined) w.bytes(3, Buffer.from(ev.fileVersion, 'utf8'));
  if (ev.scalars) {
    const summary = new PbWriter();
    for (const [tag, value] of ev.scalars) {
      const v = new PbWriter();
      v.bytes(1, Buffer.from(tag, 'utf8'));
      v.float(2, value);
      summary.bytes(1, v.finish());
    }
    w.bytes(5, summary.finish());
  }
  return w.finish();
}

function frameRecord(data: Uint8Array): Buffer {
  const out = Buffer.alloc(8 + 4 + data.length + 4);
  out.writeBigUInt64LE(BigInt(data.length), 0);
  out.writeUInt32LE(maskedCrc32c(out.subarray(0, 8)), 8);
  out.set(data, 12);
  out.writeUInt32LE(maskedCrc32c(data), 12 + data.length);
  return out;
}

// ---- writer ----

export interface EventWriterOptions {
  /** Seconds since the epoch; injectable for tests. */
  now?: () => number;
  hostname?: string;
  pid?: number;
}

export class EventWriter {
  readonly file: string;
  private fd: number | undefined;
  private readonly now: () => number;

  constructor(logDir: string, opts: EventWriterOptions = {}) {
    this.now = opts.now ?? (() => Date.now() / 1000);
    fs.mkdirSync(logDir, { recursive: true });
    const secs = Math.floor(this.now());
    const host = (opts.hostname ?? os.hostname()).replace(/[^A-Za-z0-9._-]/g, '_');
    this.file = path.join(logDir, `events.out.tfevents.${secs}.${host}.${opts.pid ?? process.pid}.civet`);
    // Append mode: each record goes to the OS immediately, so a killed process loses nothing it
    // already logged; fsync (on flush/close) only matters for power loss.
    this.fd = fs.openSync(this.file, 'a');
    this.write(encodeEvent({ wallTime: this.now(), fileVersion: 'brain.Event:2' }));
  }

  /** Log one scalar; NaN/Inf are written as-is (TensorBoard shows them, which is what we want). */
  addScalar(tag: string, value: number, step: number, wallTime?: number): void {
    this.addScalars({ [tag]: value }, step, wallTime);
  }

  /** Log several scalars at one step as a single event. */
  addScalars(values: Record<string, number>, step: number, wallTime?: number): void {
    const scalars = Object.entries(values).filter(([, v]) => typeof v === 'number');
    if (scalars.length === 0) return;
    this.write(encodeEvent({ wallTime: wallTime ?? this.now(), step, scalars }));
  }

  flush(): void {
    if (this.fd !== undefined) fs.fsyncSync(this.fd);
  }

  close(): void {
    if (this.fd === undefined) return;
    fs.fsyncSync(this.fd);
    fs.closeSync(this.fd);
    this.fd = undefined;
  }

  private write(data: Uint8Array): void {
    if (this.fd === undefined) throw new Error(`EventWriter for ${this.file} is closed`);
    const rec = frameRecord(data);
    let off = 0;
    while (off < rec.length) off += fs.writeSync(this.fd, rec, off, rec.length - off);
  }
}

// ---- reader ----

export interface ScalarEvent {
  step: number;
  wallTime: number;
  tag: string;
  value: number;
}

export interface ReadEventsOptions {
  /** Accept (and drop) an incomplete final record, as left by a killed writer. Default false. */
  allowTruncatedTail?: boolean;
}

/** Split a buffer into TFRecord payloads, verifying both CRCs of every record. */
export function readRecords(buf: Uint8Array, opts: ReadEventsOptions = {}): Uint8Array[] {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const out: Uint8Array[] = [];
  let off = 0;
  while (off < b.length) {
    const truncated = (what: string): Uint8Array[] => {
      if (opts.allowTruncatedTail) return out;
      throw new Error(`tfrecord truncated ${what} at offset ${off}`);
    };
    if (b.length - off < 12) return truncated('header');
    const lenBytes = b.subarray(off, off + 8);
    if (b.readUInt32LE(off + 8) !== maskedCrc32c(lenBytes)) throw new Error(`tfrecord length CRC mismatch at offset ${off}`);
    const len = b.readBigUInt64LE(off);
    if (len > BigInt(b.length - off - 16)) return truncated('record');
    const n = Number(len);
    const data = b.subarray(off + 12, off + 12 + n);
    if (b.readUInt32LE(off + 12 + n) !== maskedCrc32c(data)) throw new Error(`tfrecord data CRC mismatch at offset ${off}`);
    out.push(data);
    off += 16 + n;
  }
  return out;
}

class PbReader {
  pos = 0;
  constructor(private readonly b: Buffer) {}
  get done(): boolean {
    return this.pos >= this.b.length;
  }
  varint(): bigint {
    let result = 0n;
    for (let shift = 0n; ; shift += 7n) {
      if (this.pos >= this.b.length || shift > 63n) throw new Error('malformed protobuf varint');
      const byte = this.b[this.pos++];
      result |= BigInt(byte & 0x7f) << shift;
      if (!(byte & 0x80)) return result;
    }
  }
  /** Returns [field, wire type]. */
  tag(): [number, number] {
    const t = Number(this.varint());
    return [t >>> 3, t & 7];
  }
  take(n: number): Buffer {
    if (this.pos + n > this.b.length) throw new Error('malformed protobuf: field overruns message');
    const s = this.b.subarray(this.pos, this.pos + n);
    this.pos += n;
    return s;
  }
  bytes(): Buffer {
    return this.take(Number(this.varint()));
  }
  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 1) this.take(8);
    else if (wire === 2) this.bytes();
    else if (wire === 5) this.take(4);
    else throw new Error(`unsupported protobuf wire type ${wire}`);
  }
}

/** Decode the scalar (simple_value) events of a file; other events are skipped. */
export function readEvents(file: string, opts: ReadEventsOptions = {}): ScalarEvent[] {
  const events: ScalarEvent[] = [];
  for (const rec of readRecords(fs.readFileSync(file), opts)) {
    const r = new PbReader(Buffer.from(rec.buffer, rec.byteOffset, rec.byteLength));
    let wallTime = 0;
    let step = 0;
    const values: { tag: string; value: number }[] = [];
    while (!r.done) {
      const [field, wire] = r.tag();
      if (field === 1 && wire === 1) wallTime = r.take(8).readDoubleLE(0);
      else if (field === 2 && wire === 0) step = Number(BigInt.asIntN(64, r.varint()));
      else if (field === 5 && wire === 2) values.push(...decodeSummary(r.bytes()));
      else r.skip(wire);
    }
    for (const v of values) events.push({ step, wallTime, ...v });
  }
  return events;
}

/**
 * Cuts an event file back to its records up to `maxStep` (a resumed run logs the later steps
 * again); a damaged or torn record ends the kept part too. Returns whether anything was cut.
 */
export function truncateEventsAfter(file: string, maxStep: number): boolean {
  const b = fs.readFileSync(file);
  let off = 0;
  while (off + 12 <= b.length) {
    if (b.readUInt32LE(off + 8) !== maskedCrc32c(b.subarray(off, off + 8))) break;
    const len = b.readBigUInt64LE(off);
    if (len > BigInt(b.length - off - 16)) break;
    const n = Number(len);
    const data = b.subarray(off + 12, off + 12 + n);
    if (b.readUInt32LE(off + 12 + n) !== maskedCrc32c(data) || eventStep(data) > maxStep) break;
    off += 16 + n;
  }
  if (off === b.length) return false;
  fs.truncateSync(file, off);
  return true;
}

function eventStep(rec: Uint8Array): number {
  const r = new PbReader(Buffer.from(rec.buffer, rec.byteOffset, rec.byteLength));
  while (!r.done) {
    const [field, wire] = r.tag();
    if (field === 2 && wire === 0) return Number(BigInt.asIntN(64, r.varint()));
    r.skip(wire);
  }
  return 0;
}

function decodeSummary(buf: Buffer): { tag: string; value: number }[] {
  const r = new PbReader(buf);
  const out: { tag: string; value: number }[] = [];
  while (!r.done) {
    const [field, wire] = r.tag();
    if (field !== 1 || wire !== 2) {
      r.skip(wire);
      continue;
    }
    const v = new PbReader(r.bytes());
    let tag = '';
    let value: number | undefined;
    while (!v.done) {
      const [f, w] = v.tag();
      if (f === 1 && w === 2) tag = v.bytes().toString('utf8');
      else if (f === 2 && w === 5) value = v.take(4).readFloatLE(0);
      else v.skip(w);
    }
    // Values without simple_value are images/histograms/etc.; not ours to decode.
    if (value !== undefined) out.push({ tag, value });
  }
  return out;
}

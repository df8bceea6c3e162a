import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { EventWriter, crc32c, maskedCrc32c, readEvents, readRecords } from './tensorboard';

const tmp = (): string => fs.mkdtempSync(path.join(os.tmpdir(), 'civet-tb-'));

test('crc32c known vectors', () => {
  assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283);
  assert.equal(crc32c(new Uint8Array(0)), 0);
  // RFC 3720 (iSCSI) B.4 vectors: 32 zero bytes and 32 0xff bytes.
  assert.equal(crc32c(new Uint8Array(32)), 0x8a9136aa);
  assert.equal(crc32c(new Uint8Array(32).fill(0xff)), 0x62a8ab43);
  const inc = Uint8Array.from({ length: 32 }, (_, i) => i);
  assert.equal(crc32c(inc), 0x46dd794e);
});

test('masked crc matches the TFRecord formula', () => {
  const crc = crc32c(Buffer.from('abc'));
  const expect = ((((crc >>> 15) | (crc << 17)) >>> 0) + 0xa282ead8) >>> 0;
  assert.equal(maskedCrc32c(Buffer.from('abc')), expect);
});

test('write then read back scalars', () => {
  const dir = tmp();
  let t = 1700000000.25;
  const w = new EventWriter(dir, { now: () => t, hostname: 'box', pid: 42 });
  assert.equal(path.basename(w.file), 'events.out.tfevents.1700000000.box.42.civet');
  w.addScalar('train/loss', 2.5, 0);
  t += 1;
  w.addScalars({ 'train/loss': 1.25, 'train/lr': 0.001 }, 10);
  w.addScalar('eval/top1', 0.8125, 2 ** 40, 1800000000.5); // step beyond 32 bits
  w.addScalar('neg', -3.5, -7);
  w.flush();
  w.close();

  const raw = fs.readFileSync(w.file);
  // First record is the file_version event: field 3 carries "brain.Event:2".
  const first = readRecords(raw)[0];
  assert.ok(Buffer.from(first).includes(Buffer.from('brain.Event:2')));

  const ev = readEvents(w.file);
  assert.deepEqual(ev, [
    { step: 0, wallTime: 1700000000.25, tag: 'train/loss', value: 2.5 },
    { step: 10, wallTime: 1700000001.25, tag: 'train/loss', value: 1.25 },
    { step: 10, wallTime: 1700000001.25, tag: 'train/lr', value: Math.fround(0.001) },
    { step: 2 ** 40, wallTime: 1800000000.5, tag: 'eval/top1', value: 0.8125 },
    { step: -7, wallTime: 1700000001.25, tag: 'neg', value: -3.5 },
  ]);
});

test('a flipped byte is detected with its offset', () => {
  const dir = tmp();
  const w = new EventWriter(dir, { now: () => 1, hostname: 'h', pid: 1 });
  w.addScalar('a', 1, 1);
  w.close();
  const good = fs.readFileSync(w.file);
  const firstLen = Number(good.readBigUInt64LE(0)) + 16;

  const dataFlip = Buffer.from(good);
  dataFlip[firstLen + 14] ^= 0x01; // inside the second record's payload
  fs.writeFileSync(w.file, dataFlip);
  assert.throws(() => readEvents(w.file), new RegExp(`data CRC mismatch at offset ${firstLen}$`));

  const lenFlip = Buffer.from(good);
  lenFlip[firstLen] ^= 0x40; // the second record's length field
  fs.writeFileSync(w.file, lenFlip);
  assert.throws(() => readEvents(w.file), /length CRC mismatch at offset/);
});

test('truncated tail: error by default, dropped when allowed', () => {
  const dir = tmp();
  const w = new EventWriter(dir, { now: () => 1, hostname: 'h', pid: 1 });
  w.addScalar('a', 1, 1);
  w.addScalar('a', 2, 2);
  w.close();
  const good = fs.readFileSync(w.file);
  fs.writeFileSync(w.file, good.subarray(0, good.length - 3));
  assert.throws(() => readEvents(w.file), /truncated record at offset/);
  assert.deepEqual(readEvents(w.file, { allowTruncatedTail: true }).map((e) => e.value), [1]);
});

test('scalar event bytes match the protobuf wire format', () => {
  const dir = tmp();
  const w = new EventWriter(dir, { now: () => 1, hostname: 'h', pid: 1 });
  w.addScalar('a', 1, 1, 1);
  w.close();
  const [first, second] = readRecords(fs.readFileSync(w.file));
  // Event{wall_time=1 (field 1, fixed64), file_version="brain.Event:2" (field 3, len 13)}
  assert.equal(Buffer.from(first).toString('hex'), '09000000000000f03f' + '1a0d' + Buffer.from('brain.Event:2').toString('hex'));
  // Event{wall_time=1, step=1 (field 2 varint), summary (field 5) {value (1) {tag (1) "a", simple_value (2, fixed32) 1.0f}}}
  assert.equal(Buffer.from(second).toString('hex'), '09000000000000f03f' + '1001' + '2a0a' + '0a08' + '0a0161' + '150000803f');
});

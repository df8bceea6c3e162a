// A teacher with its own input convention (another normalisation, resolution and channel count
// than the student's) gives, on the student's batch, the logits it gives when fed its own
// convention directly; the convention comes from the config or from civet import's metadata.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { tidy, noGrad, randint, manualSeed, F, fromTypedArray } from '../tensor';
import { createModel } from '../models/registry';
import { saveSafetensors } from '../interop/weights';
import { IMAGENET_NORM } from '../data/transforms';
import { imagesToTensor, FMNIST_NORM } from '../data/batch';
import { buildTeacher } from './teachers';
import { convertInput } from './teacher_input';
import '../models';

test('teacher input convention: un-normalise → resize → re-normalise equals feeding the teacher its own convention', () => {
  manualSeed(3);
  const n = 6;
  const pixels = randint(0, 256, [n * 28 * 28], { dtype: 'uint8' }).toTypedArray() as Uint8Array;
  // the teacher: a 3-channel CIFAR ResNet trained (say) at 56 px with ImageNet statistics
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'civet-teacher-'));
  const file = path.join(dir, 'teacher.safetensors');
  const src = createModel('resnet8', { numClasses: 10, inChans: 3 });
  saveSafetensors(file, src.stateDict(), { format: 'civet-import', 'civet.normalize': JSON.stringify(IMAGENET_NORM), 'civet.img_size': '56', 'civet.in_chans': '3' });
  src.eval();
  // the student's batch: Fashion-MNIST normalisation, 28 px, one channel
  const studentShape = { numClasses: 10, imgSize: 28, inChans: 1, norm: FMNIST_NORM };
  const cfgTeacher = { model: 'resnet8', options: {}, weights: file, naming: 'civet' as const, checkpoint: 'best' as const };
  const teacher = buildTeacher(cfgTeacher, 0, studentShape) as any;
  assert.deepEqual(teacher.inputConvention, { normalize: IMAGENET_NORM, imgSize: 56, inChans: 3 });
  teacher.eval();
  tidy(() => noGrad(() => {
    const xs = imagesToTensor(pixels, n, 28, 28, 1, { norm: FMNIST_NORM });
    // the teacher's own convention, built from the raw pixels
    let raw = fromTypedArray(pixels, [n, 28, 28, 1]).permute(0, 3, 1, 2).to('float32').div(255);
    raw = F.interpolate(raw, { size: [56, 56], mode: 'bilinear', align_corners: false }).expand(n, 3, 56, 56);
    const mean = fromTypedArray(Float32Array.from(IMAGENET_NORM.mean), [1, 3, 1, 1]), std = fromTypedArray(Float32Array.from(IMAGENET_NORM.std), [1, 3, 1, 1]);
    const direct = raw.sub(mean).div(std);
    const conv = convertInput(xs, { normalize: FMNIST_NORM, imgSize: 28, inChans: 1 }, { normalize: IMAGENET_NORM, imgSize: 56, inChans: 3 });
    assert.deepEqual(conv.shape, [n, 3, 56, 56]);
    assert.ok(conv.sub(direct).abs().max().item() < 1e-5);
    const want = src.call(direct), got = teacher.call(xs);
    const d = got.sub(want).abs().max().item();
    assert.ok(d < 1e-4, `max |Δ logits| ${d}`);
    assert.ok(want.abs().max().item() > 1e-3);
    // the student's batch fed unconverted gives something else (the conversion is not a no-op)
    assert.ok(src.call(xs.expand(n, 3, 28, 28)).sub(want).abs().max().item() > 1e-3);
  }));
  // a config can state the convention itself; one equal to the student's leaves the teacher alone
  const plain = buildTeacher({ ...cfgTeacher, normalize: FMNIST_NORM, imgSize: 28 }, 0, { ...studentShape, inChans: 3 }) as any;
  assert.equal(plain.inputConvention, undefined);
  src.dispose(); teacher.dispose(); plain.dispose();
});

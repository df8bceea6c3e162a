// Writes the first Fashion-MNIST test image of each class as an 8-bit greyscale PNG into
// test/fixtures/fmnist_samples/ (the bundled images of civet predict's tests and the browser
// page). Run after `npx tsc`: node test/reference/fmnist_samples.js
const path = require('node:path');
const fs = require('node:fs');
const sharp = require('sharp');
const { loadFashionMnist, FASHION_MNIST_CLASSES } = require('../../dist/src/data');

(async () => {
  const ds = loadFashionMnist({ split: 'test' });
  const out = path.join(__dirname, '..', 'fixtures', 'fmnist_samples');
  fs.mkdirSync(out, { recursive: true });
  const seen = new Set();
  const index = [];
  for (let i = 0; i < ds.length && seen.size < FASHION_MNIST_CLASSES.length; i++) {
    const { pixels: image, label } = ds.get(i);
    if (seen.has(label)) continue;
    seen.add(label);
    const name = `test_${String(i).padStart(5, '0')}_${FASHION_MNIST_CLASSES[label].toLowerCase().replace(/[^a-z]+/g, '_')}.png`;
    await sharp(Buffer.from(image), { raw: { width: 28, height: 28, channels: 1 } }).png({ compressionLevel: 9 }).toFile(path.join(out, name));
    index.push({ file: name, index: i, label, className: FASHION_MNIST_CLASSES[label] });
  }
  index.sort((a, b) => a.index - b.index);
  fs.writeFileSync(path.join(out, 'index.json'), JSON.stringify(index, null, 1) + '\n');
  console.log(index.map((e) => e.file).join('\n'));
})();

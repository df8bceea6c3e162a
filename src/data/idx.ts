// IDX format (LeCun's MNIST container): big-endian int32 magic = 0x0000 | type | ndims, then
// ndims big-endian int32 sizes, then the data. Only unsigned bytes (type 0x08) occur in
// (Fashion-)MNIST, so that is all this reader accepts.
import * as fs from 'node:fs';
import * as zlib from 'node:zlib';
import { DatasetError } from './errors';

export interface IdxArray {
  dims: number[];
  /** A view into the decoded file (no copy). */
  data: Uint8Array;
}

/** Read a file, gunzipping it when it starts with the gzip magic. */
export function readMaybeGzip(file: string): Buffer {
  let raw: Buffer;
  try {
    raw = fs.readFileSync(file);
  } catch (err) {
    throw new DatasetError(`cannot read: ${(err as Error).message}`, file, { cause: err });
  }
  if (raw.length >= 2 && raw[0] === 0x1f && raw[1] === 0x8b) {
    try {
      return zlib.gunzipSync(raw);
    } catch (err) {
      // A cut-off download usually fails here ("unexpected end of file").
      throw new DatasetError(`corrupt or truncated gzip data (${(err as Error).message})`, file, { cause: err });
    }
  }
  return raw;
}

/** Parse an IDX ubyte array and check its magic number, shape and byte length. */
export function parseIdx(buf: Uint8Array, file: string, expectMagic: number, expectDims?: number[]): IdxArray {
  if (buf.length < 4) throw new DatasetError(`truncated IDX file: ${buf.length} bytes, no room for the header`, file);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const magic = view.getInt32(0, false);
  if (magic !== expectMagic) {
    throw new DatasetError(
      `wrong magic number ${magic} (0x${(magic >>> 0).toString(16).padStart(8, '0')}), expected ${expectMagic} (0x${expectMagic.toString(16).padStart(8, '0')}); not an IDX file of the expected kind`,
      file,
    );
  }
  const ndims = magic & 0xff;
  const headerLen = 4 + 4 * ndims;
  if (buf.length < headerLen) throw new DatasetError(`truncated IDX header: ${buf.length} bytes, need ${headerLen}`, file);
  const dims: number[] = [];
  for (let d = 0; d < ndims; d++) dims.push(view.getInt32(4 + 4 * d, false));
  if (expectDims) {
    expectDims.forEach((want, d) => {
      if (dims[d] !== want) {
        const what = d === 0 ? 'item count' : `dimension ${d}`;
        throw new DatasetError(`${what} mismatch: header says ${dims[d]}, expected ${want} (dims ${dims.join('x')})`, file);
      }
    });
  }
  const expectLen = headerLen + dims.reduce((a, b) => a * b, 1);
  if (buf.length < expectLen) {
    throw new DatasetError(`truncated: ${buf.length} bytes after decompression, header (dims ${dims.join('x')}) implies ${expectLen}`, file);
  }
  if (buf.length > expectLen) {
    throw new DatasetError(`${buf.length - expectLen} unexpected trailing bytes: ${buf.length} bytes, header (dims ${dims.join('x')}) implies ${expectLen}`, file);
  }
  // A plain Uint8Array view (not a Buffer), so downstream code sees standard typed-array semantics.
  return { dims, data: new Uint8Array(buf.buffer, buf.byteOffset + headerLen, expectLen - headerLen) };
}

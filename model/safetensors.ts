import { ModelArtifactError } from '../common/errors';

/** A float32 tensor read from a safetensors file. */
export interface Tensor {
  shape: number[];
  data: Float32Array;
}

/**
 * Parses a safetensors buffer (8-byte little-endian header length, JSON header, raw data) holding
 * F32 tensors. Pure; copies each tensor into an aligned Float32Array. Throws ModelArtifactError
 * naming `file` on any malformed header, non-F32 dtype or out-of-range data offsets.
 */
export function parseSafetensors(bytes: Buffer, file: string): Map<string, Tensor> {
  if (bytes.length < 8) throw new ModelArtifactError(file, 'not a safetensors file (shorter than 8 bytes)');
  const headerLength = Number(bytes.readBigUInt64LE(0));
  if (headerLength <= 0 || 8 + headerLength > bytes.length) {
    throw new ModelArtifactError(file, `bad safetensors header length ${headerLength}`);
  }
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(bytes.subarray(8, 8 + headerLength).toString('utf8')) as Record<string, unknown>;
  } catch (cause) {
    throw new ModelArtifactError(file, 'safetensors header is not JSON', { cause });
  }
  const dataStart = 8 + headerLength;
  const tensors = new Map<string, Tensor>();
  for (const [name, value] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const info = value as { dtype?: string; shape?: number[]; data_offsets?: [number, number] };
    if (info.dtype !== 'F32') throw new ModelArtifactError(file, `tensor ${name}: dtype ${info.dtype}, expected F32`);
    const shape = info.shape ?? [];
    const [begin, end] = info.data_offsets ?? [-1, -1];
    const count = shape.reduce((a, b) => a * b, 1);
    if (begin < 0 || end < begin || dataStart + end > bytes.length || end - begin !== count * 4) {
      throw new ModelArtifactError(file, `tensor ${name}: data offsets [${begin}, ${end}] do not fit shape [${shape}]`);
    }
    const data = new Float32Array(count);
    const view = new DataView(bytes.buffer, bytes.byteOffset + dataStart + begin, end - begin);
    for (let i = 0; i < count; i++) data[i] = view.getFloat32(4 * i, true);
    tensors.set(name, { shape, data });
  }
  return tensors;
}

/**
 * Serialises F32 tensors as safetensors (8-byte little-endian header length, JSON header with
 * `data_offsets` relative to the data section, raw little-endian data), tensors in the given order.
 * The header is padded with spaces to a multiple of 8 bytes, as the reference writer does, so data
 * stays aligned. Pure; throws RangeError when a tensor's data does not fit its shape.
 */
export function writeSafetensors(tensors: ReadonlyArray<[name: string, tensor: Tensor]>, metadata?: Record<string, string>): Buffer {
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  let offset = 0;
  for (const [name, { shape, data }] of tensors) {
    const count = shape.reduce((a, b) => a * b, 1);
    if (count !== data.length) throw new RangeError(`tensor ${name}: ${data.length} values do not fit shape [${shape}]`);
    header[name] = { dtype: 'F32', shape, data_offsets: [offset, offset + 4 * count] };
    offset += 4 * count;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const headerBytes = Buffer.from(json, 'utf8');
  const out = Buffer.alloc(8 + headerBytes.length + offset);
  out.writeBigUInt64LE(BigInt(headerBytes.length), 0);
  headerBytes.copy(out, 8);
  let at = 8 + headerBytes.length;
  for (const [, { data }] of tensors) {
    for (let i = 0; i < data.length; i++) out.writeFloatLE(data[i], at + 4 * i);
    at += 4 * data.length;
  }
  return out;
}

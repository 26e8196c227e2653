/**
 * A WebAssembly SIMD (f32x4) kernel for the heads' matrix products: `Y[r, o] = X[r, :] · W[o, :]`.
 * The module is assembled here from its opcodes (no binary blob, no build step); ~4× the blocked
 * JavaScript loop. Sums are float32 lanes rather than doubles: results differ from the JavaScript
 * path by ~1e-7 relative, far inside the contract's 1e-3.
 */
import { modelConfigFromEnv } from '../common/config';

const I32 = 0x7f;
const V128 = 0x7b;

function leb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}
function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}
const str = (s: string): number[] => [...leb(s.length), ...Buffer.from(s, 'latin1')];
const section = (id: number, body: number[]): number[] => [id, ...leb(body.length), ...body];
const vec = (items: number[][]): number[] => [...leb(items.length), ...items.flat()];

// Opcodes.
const get = (l: number) => [0x20, ...leb(l)];
const set = (l: number) => [0x21, ...leb(l)];
const i32 = (v: number) => [0x41, ...sleb(v)];
const [ADD, MUL, GE_U, LT_U] = [0x6a, 0x6c, 0x4f, 0x49];
const BLOCK = [0x02, 0x40];
const LOOP = [0x03, 0x40];
const END = 0x0b;
const br = (d: number) => [0x0c, ...leb(d)];
const brIf = (d: number) => [0x0d, ...leb(d)];
const v128Load = [0xfd, 0x00, 0x04, 0x00];
const v128Zero = [0xfd, 0x0c, ...new Array<number>(16).fill(0)];
const f32x4Add = [0xfd, ...leb(228)];
const f32x4Mul = [0xfd, ...leb(230)];
const lane = (k: number) => [0xfd, 0x1f, k];
const F32_ADD = 0x92;
const f32Store = (offset: number) => [0x38, 0x02, ...leb(offset)];

// gemm(x, w, y, rows, n, blocks): params 0..5; locals below.
const [X, W, Y, ROWS, N, BLOCKS] = [0, 1, 2, 3, 4, 5];
const [R, O, I, XR, W0, W1, W2, W3, NB, YP] = [6, 7, 8, 9, 10, 11, 12, 13, 14, 15];
const [A0, A1, A2, A3, XV] = [16, 17, 18, 19, 20];

function hsum(acc: number): number[] {
  return [...get(acc), ...lane(0), ...get(acc), ...lane(1), F32_ADD, ...get(acc), ...lane(2), F32_ADD, ...get(acc), ...lane(3), F32_ADD];
}

function body(): number[] {
  const accumulate = (acc: number, w: number): number[] => [
    ...get(acc),
    ...get(XV),
    ...get(w),
    ...get(I),
    ADD,
    ...v128Load,
    ...f32x4Mul,
    ...f32x4Add,
    ...set(acc),
  ];
  const code = [
    ...get(N),
    ...i32(4),
    MUL,
    ...set(NB),
    ...i32(0),
    ...set(R),
    ...BLOCK,
    ...LOOP,
    ...get(R),
    ...get(ROWS),
    GE_U,
    ...brIf(1),
    ...get(X),
    ...get(R),
    ...get(NB),
    MUL,
    ADD,
    ...set(XR),
    ...i32(0),
    ...set(O),
    ...BLOCK,
    ...LOOP,
    ...get(O),
    ...get(BLOCKS),
    GE_U,
    ...brIf(1),
    ...get(W),
    ...get(O),
    ...get(NB),
    MUL,
    ...i32(4),
    MUL,
    ADD,
    ...set(W0),
    ...get(W0),
    ...get(NB),
    ADD,
    ...set(W1),
    ...get(W1),
    ...get(NB),
    ADD,
    ...set(W2),
    ...get(W2),
    ...get(NB),
    ADD,
    ...set(W3),
    ...v128Zero,
    ...set(A0),
    ...v128Zero,
    ...set(A1),
    ...v128Zero,
    ...set(A2),
    ...v128Zero,
    ...set(A3),
    ...i32(0),
    ...set(I),
    ...LOOP,
    ...get(XR),
    ...get(I),
    ADD,
    ...v128Load,
    ...set(XV),
    ...accumulate(A0, W0),
    ...accumulate(A1, W1),
    ...accumulate(A2, W2),
    ...accumulate(A3, W3),
    ...get(I),
    ...i32(16),
    ADD,
    ...set(I),
    ...get(I),
    ...get(NB),
    LT_U,
    ...brIf(0),
    END,
    // yp = y + (r * blocks + o) * 16
    ...get(Y),
    ...get(R),
    ...get(BLOCKS),
    MUL,
    ...get(O),
    ADD,
    ...i32(16),
    MUL,
    ADD,
    ...set(YP),
    ...get(YP),
    ...hsum(A0),
    ...f32Store(0),
    ...get(YP),
    ...hsum(A1),
    ...f32Store(4),
    ...get(YP),
    ...hsum(A2),
    ...f32Store(8),
    ...get(YP),
    ...hsum(A3),
    ...f32Store(12),
    ...get(O),
    ...i32(1),
    ADD,
    ...set(O),
    ...br(0),
    END,
    END,
    ...get(R),
    ...i32(1),
    ADD,
    ...set(R),
    ...br(0),
    END,
    END,
    END,
  ];
  const locals = vec([
    [...leb(10), I32],
    [...leb(5), V128],
  ]);
  return [...leb(locals.length + code.length), ...locals, ...code];
}

function moduleBytes(): Uint8Array<ArrayBuffer> {
  return new Uint8Array([
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    ...section(1, vec([[0x60, ...vec([[I32], [I32], [I32], [I32], [I32], [I32]]), 0x00]])),
    ...section(2, vec([[...str('env'), ...str('memory'), 0x02, 0x00, 0x01]])),
    ...section(3, vec([[0x00]])),
    ...section(7, vec([[...str('gemm'), 0x00, 0x00]])),
    ...section(10, vec([body()])),
  ]);
}

type Gemm = (x: number, w: number, y: number, rows: number, n: number, blocks: number) => void;

// The project compiles with lib ES2022 and no DOM types, which is where TypeScript declares
// WebAssembly; these few members are all the kernel uses.
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  Memory: new (descriptor: { initial: number }) => WasmMemory;
  Module: new (bytes: Uint8Array<ArrayBuffer>) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
}
const wasm = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;

let kernel: { gemm: Gemm; memory: WasmMemory } | null | undefined;
/** The config's `model.simd`; until a process sets it, read from the environment at first use. */
let enabled: boolean | undefined;

/** Turns the kernel on or off for this process (the processor passes its loaded config's `model.simd`). */
export function setSimdEnabled(on: boolean): void {
  if (enabled === on) return;
  enabled = on;
  kernel = undefined;
}

/** The kernel, or null where WebAssembly SIMD is unavailable (then callers use plain JavaScript). */
function load(): { gemm: Gemm; memory: WasmMemory } | null {
  if (kernel !== undefined) return kernel;
  enabled ??= modelConfigFromEnv().simd;
  try {
    if (!wasm || !enabled) throw new Error('disabled');
    const memory = new wasm.Memory({ initial: 16 });
    const instance = new wasm.Instance(new wasm.Module(moduleBytes()), { env: { memory } });
    kernel = { gemm: instance.exports.gemm as Gemm, memory };
  } catch {
    kernel = null;
  }
  return kernel;
}

/** Whether the SIMD kernel can run here. */
export function simdAvailable(): boolean {
  return load() !== null;
}

/**
 * `Y = X · Wᵀ` without bias: `x` is `[rows × n]` from `offset`, `w` is `[outPadded × n]` with
 * `outPadded` a multiple of 4 (zero rows beyond the real outputs), `n` a multiple of 4. Returns
 * `[rows × outPadded]`. Blocks (synchronous); throws if the kernel is unavailable (check
 * simdAvailable first).
 */
export function gemmSimd(x: Float32Array, offset: number, rows: number, n: number, w: Float32Array, outPadded: number): Float32Array {
  const k = load();
  if (!k) throw new Error('WebAssembly SIMD is unavailable');
  const wAt = residentWeights(k.memory, w);
  const xAt = scratchStart;
  const yAt = xAt + rows * n * 4;
  ensure(k.memory, yAt + rows * outPadded * 4);
  new Float32Array(k.memory.buffer).set(x.subarray(offset, offset + rows * n), xAt / 4);
  k.gemm(xAt, wAt, yAt, rows, n, outPadded / 4);
  return new Float32Array(k.memory.buffer, yAt, rows * outPadded).slice();
}

// Weights stay resident in the kernel's memory (copied once per layer, not once per call: with
// per-input batching a 384×384 layer would otherwise be copied for every one-row batch). They sit
// below `scratchStart`; inputs and outputs use the space above it. Swapped-out heads' weights are
// not reclaimed (about 0.6 MB per swap).
const resident = new WeakMap<Float32Array, number>();
let scratchStart = 0;

function ensure(memory: WasmMemory, bytes: number): void {
  if (memory.buffer.byteLength < bytes) memory.grow(Math.ceil((bytes - memory.buffer.byteLength) / 65536));
}

function residentWeights(memory: WasmMemory, w: Float32Array): number {
  const known = resident.get(w);
  if (known !== undefined) return known;
  const at = scratchStart;
  ensure(memory, at + w.length * 4);
  new Float32Array(memory.buffer).set(w, at / 4);
  scratchStart = at + Math.ceil((w.length * 4) / 16) * 16;
  resident.set(w, at);
  return at;
}

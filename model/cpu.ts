import { readFileSync } from 'node:fs';
import * as os from 'node:os';

/**
 * Which int8 (u8·s8) GEMM ONNX Runtime's CPU kernels (MLAS) take on this machine, named as
 * training/trident_training/parity_fixture.py names it in parity.json's `kernel.int8_gemm`, best first.
 * Only AVX2 / AVX-512BW without VNNI sum pairs of products in saturating int16.
 */
const X86_INT8_PATHS: Array<[flag: string, name: string]> = [
  ['amx_int8', 'amx'],
  ['avx512_vnni', 'avx512_vnni'],
  ['avx_vnni', 'avx_vnni'],
  ['avx512bw', 'avx512bw (u8s8 saturating)'],
  ['avx2', 'avx2 (u8s8 saturating)'],
  ['sse4_1', 'sse4.1'],
];

/** The int8 path for CPU `flags` (Linux /proc/cpuinfo names) on `arch`; "unknown" when flags are unreadable. Pure. */
export function int8GemmPath(flags: ReadonlySet<string> | null, arch: string): string {
  if (flags === null) return arch === 'arm64' ? 'neon' : 'unknown';
  if (arch === 'x64') return X86_INT8_PATHS.find(([flag]) => flags.has(flag))?.[1] ?? 'sse2';
  if (arch === 'arm64') return flags.has('i8mm') ? 'neon_i8mm' : flags.has('asimddp') ? 'neon_dotprod' : 'neon';
  return 'unknown';
}

/** This machine's CPU flags from /proc/cpuinfo (Linux), or null where there is none. */
export function cpuFlags(): Set<string> | null {
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8')
      .split('\n')
      .find((l) => /^(flags|Features)\s*:/.test(l));
    return line ? new Set(line.split(':')[1].trim().split(/\s+/)) : null;
  } catch {
    return null;
  }
}

export const thisMachineInt8Gemm = (): string => int8GemmPath(cpuFlags(), os.arch());

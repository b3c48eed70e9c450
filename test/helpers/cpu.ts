import { readFileSync } from 'node:fs';
import { release } from 'node:os';

/** This CPU's feature flags (/proc/cpuinfo), e.g. avx2, avx512_vnni, amx_int8. */
export const cpuFlags = new Set(readFileSync('/proc/cpuinfo', 'utf8').match(/^flags\s*:(.*)$/m)?.[1]?.trim().split(/\s+/) ?? []);

/** Linux gives a process the AMX tile registers on request from 5.16 on. */
function kernelAtLeast(major: number, minor: number): boolean {
  const [a = 0, b = 0] = release().split('.').map(Number);
  return a > major || (a === major && b >= minor);
}

/** The int8 scan's best instruction set here, as the addon picks it. */
export const bestInt8Isa = (): 'amx' | 'avx512' | 'avx2' | 'portable' =>
  cpuFlags.has('avx512_vnni') && cpuFlags.has('avx512bw')
    ? cpuFlags.has('amx_int8') && cpuFlags.has('amx_tile') && kernelAtLeast(5, 16)
      ? 'amx'
      : 'avx512'
    : cpuFlags.has('avx2')
      ? 'avx2'
      : 'portable';

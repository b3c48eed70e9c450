import { readFileSync } from 'node:fs';
import { loadNative } from '../src/native-addon.js';

/** The CPU's feature flags (/proc/cpuinfo), e.g. avx2, avx512f. */
export function cpuFlags(cpuinfo = readFileSync('/proc/cpuinfo', 'utf8')): Set<string> {
  return new Set(/^flags\s*:(.*)$/m.exec(cpuinfo)?.[1]?.trim().split(/\s+/) ?? []);
}

/** What the figures of a run hold for: the CPU, its vector extensions, and the instruction sets the native scans use. */
export function describeMachine(): string {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const model = /^model name\s*:\s*(.*)$/m.exec(cpuinfo)?.[1] ?? 'unknown CPU';
  const flags = cpuFlags(cpuinfo);
  const vector = ['avx2', 'fma', 'avx512f', 'avx512bw', 'avx512_vnni', 'avx_vnni', 'amx_int8'].filter((f) => flags.has(f));
  const isa = loadNative()?.isa();
  const forced = process.env.RECSERVE_NATIVE_ISA ? ` (forced by RECSERVE_NATIVE_ISA=${process.env.RECSERVE_NATIVE_ISA})` : '';
  return [
    `CPU: ${model}, ${readFileSync('/proc/cpuinfo', 'utf8').match(/^processor\s*:/gm)?.length ?? '?'} cores; ${vector.join(', ') || 'no AVX2'}.`,
    `Native scans: ${isa ? `float32 ${isa.float32}, int8 ${isa.int8}${forced}` : 'not built'}. Node ${process.version}. ${new Date().toISOString().slice(0, 10)}.`,
  ].join('\n');
}

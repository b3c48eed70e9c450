import { readFileSync } from 'node:fs';

/**
 * The machine's CPU time so far in clock ticks (/proc/stat's first line): all of it, and what the
 * hypervisor gave to other guests while this one had work (steal). On a shared VM a stolen stretch stalls
 * whatever ran on that CPU, so a run's tail latencies and throughput move with it.
 */
export interface CpuTimes {
  total: number;
  steal: number;
}

/** The first `cpu` line of /proc/stat; undefined when it has no steal field (kernels before 2.6.11) or is not one. */
export function parseCpuTimes(stat: string): CpuTimes | undefined {
  const fields = /^cpu\s+(.*)$/m.exec(stat)?.[1]?.trim().split(/\s+/).map(Number);
  if (!fields || fields.length < 8 || fields.some((f) => !Number.isFinite(f))) return undefined;
  // user nice system idle iowait irq softirq steal; guest and guest_nice after them are already in user and nice.
  const counted = fields.slice(0, 8);
  return { total: counted.reduce((sum, f) => sum + f, 0), steal: counted[7]! };
}

/** This machine's CPU times now; undefined where /proc/stat cannot be read (not Linux). */
export function cpuTimes(): CpuTimes | undefined {
  try {
    return parseCpuTimes(readFileSync('/proc/stat', 'utf8'));
  } catch {
    return undefined;
  }
}

/** The percentage of the machine's CPU time stolen between two readings; undefined without both, or with no time between. */
export function stealPercent(before: CpuTimes | undefined, after: CpuTimes | undefined): number | undefined {
  if (!before || !after || after.total <= before.total) return undefined;
  return (100 * (after.steal - before.steal)) / (after.total - before.total);
}

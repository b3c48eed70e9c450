import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { ensureCommand, runs } from './debian.js';
import type { HttpResult } from './http.js';
import { cpuTimes, stealPercent } from './steal.js';

const run = promisify(execFile);

/** Milliseconds from one of wrk's latency figures: "812.00us", "3.21ms", "1.02s". */
function toMs(figure: string): number {
  const m = /^([\d.]+)(us|ms|s)$/.exec(figure);
  if (!m) throw new Error(`unexpected wrk latency ${figure}`);
  return Number(m[1]) * { us: 0.001, ms: 1, s: 1000 }[m[2] as 'us' | 'ms' | 's'];
}

/** Parses `wrk --latency` output into the benchmark's result row. */
export function parseWrk(label: string, connections: number, out: string): HttpResult {
  const field = (re: RegExp) => re.exec(out)?.[1];
  return {
    label,
    connections,
    requestsPerSec: Number(field(/Requests\/sec:\s+([\d.]+)/)),
    p50: toMs(field(/^\s+50%\s+(\S+)/m)!),
    p99: toMs(field(/^\s+99%\s+(\S+)/m)!),
    non2xx: Number(field(/Non-2xx or 3xx responses:\s+(\d+)/) ?? 0),
    errors: (field(/Socket errors: (.*)/) ?? '').split(',').reduce((sum, part) => sum + Number(/\d+/.exec(part)?.[0] ?? 0), 0),
  };
}

/** Whether wrk runs from the PATH. */
export const hasWrk = () => runs('wrk', ['-v']);
let wrkChecked = false;

/** wrk on the PATH, installed from Debian's packages when missing and run as root; otherwise a one-line error. */
function ensureWrk(): void {
  if (wrkChecked) return;
  if (!ensureCommand('wrk', ['-v'], 'wrk')) throw new Error('the HTTP sections need wrk on the PATH: apt-get install wrk');
  wrkChecked = true;
}

/** One wrk thread at a fixed connection count, as the peer's README runs it; with the VM's steal over the run. */
export async function wrk(label: string, url: string, script: string, env: NodeJS.ProcessEnv, connections: number, seconds: number): Promise<HttpResult> {
  ensureWrk();
  const before = cpuTimes();
  const { stdout } = await run('wrk', ['-t1', `-c${connections}`, `-d${seconds}s`, '--latency', '-s', script, url], { env: { ...process.env, ...env } });
  return { ...parseWrk(label, connections, stdout), steal: stealPercent(before, cpuTimes()) };
}

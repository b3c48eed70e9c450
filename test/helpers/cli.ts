import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { REPO_ROOT } from './fixtures.js';

/** How to run the CLI: from source through tsx, or the bundle `npm run build` writes (what `npm start` and the image run). */
export const FROM_SOURCE = ['--import', 'tsx', path.join(REPO_ROOT, 'src', 'cli', 'main.ts')];
export const BUNDLED = [path.join(REPO_ROOT, 'dist', 'recserve.mjs')];

/** Runs `recserve <args>` (from source unless told) to completion. */
export function runCli(args: string[], env: NodeJS.ProcessEnv = {}, entry = FROM_SOURCE): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...entry, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Starts `recserve serve <args>` (one worker unless RECSERVE_WORKERS says otherwise) and resolves with its base URL once it listens. */
export function startCli(args: string[], env: NodeJS.ProcessEnv = {}, entry = FROM_SOURCE): Promise<{ child: ChildProcess; baseUrl: string; output: () => string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...entry, 'serve', ...args], { env: { ...process.env, RECSERVE_WORKERS: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const onData = (d: Buffer) => {
      output += d;
      const m = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (m) resolve({ child, baseUrl: m[1]!, output: () => output });
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('error', reject);
    child.on('exit', (code) => reject(new Error(`serve exited with ${code} before listening:\n${output}`)));
  });
}

export async function waitFor(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

import { spawnSync } from 'node:child_process';

/** Whether `command` runs from the PATH (spawned with `args`, output ignored). */
export const runs = (command: string, args: string[]) => spawnSync(command, args, { stdio: 'ignore' }).error === undefined;

/**
 * Installs Debian packages when run as root (the bench's way of getting wrk, redis-server and the numpy
 * peer's packages on a fresh machine); false when not root or apt-get failed.
 */
export function aptInstall(packages: string[]): boolean {
  if (process.getuid?.() !== 0) return false;
  console.error(`installing ${packages.join(' ')} (apt-get install)`);
  return spawnSync('apt-get', ['install', '-y', '-qq', ...packages], { stdio: 'ignore', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } }).status === 0;
}

/** `command` on the PATH, installed from its Debian package when missing and run as root. */
export function ensureCommand(command: string, probeArgs: string[], pkg: string): boolean {
  return runs(command, probeArgs) || (aptInstall([pkg]) && runs(command, probeArgs));
}

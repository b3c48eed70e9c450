// Makes a fresh clone runnable: installs dependencies and builds dist/ when either is missing or stale.
// Runs before `npm start` and `npm test`, so each of those works as the first command on a new machine.
import { execSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname ?? path.dirname(new URL(import.meta.url).pathname), '..');
const mtime = (file) => (existsSync(file) ? statSync(file).mtimeMs : 0);
const newest = (dir) =>
  readdirSync(dir, { withFileTypes: true }).reduce((latest, entry) => {
    const full = path.join(dir, entry.name);
    return Math.max(latest, entry.isDirectory() ? newest(full) : mtime(full));
  }, 0);
const run = (command) => execSync(command, { cwd: root, stdio: 'inherit' });

if (mtime(path.join(root, 'node_modules', '.package-lock.json')) < mtime(path.join(root, 'package-lock.json'))) {
  run('npm ci --no-audit --no-fund');
}
if (mtime(path.join(root, 'dist', 'recserve.mjs')) < Math.max(newest(path.join(root, 'src')), mtime(path.join(root, 'tsconfig.json')), mtime(path.join(root, 'scripts', 'bundle.mjs')))) {
  run('npm run build --silent');
}
const nativeSources = [path.join(root, 'binding.gyp'), ...readdirSync(path.join(root, 'native')).map((f) => path.join(root, 'native', f))];
if (mtime(path.join(root, 'build', 'Release', 'recserve_kernel.node')) < Math.max(...nativeSources.map(mtime))) {
  run('node scripts/build-native.mjs');
}

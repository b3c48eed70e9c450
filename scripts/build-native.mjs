// Builds the native scan (native/*.c -> build/Release/recserve_kernel.node) with node-gyp, as npm install
// does. It is optional: without a compiler the build fails, this says so, and onnxruntime scores instead.
import { execSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname ?? path.dirname(new URL(import.meta.url).pathname), '..');
try {
  // npm puts its own node-gyp on the PATH of install scripts; elsewhere a local copy may serve.
  const PATH = [process.env.PATH, path.join(root, 'node_modules', '.bin')].join(path.delimiter);
  // Build against the running Node's own headers when it has them: node-gyp would otherwise download them,
  // and npm passes its configured nodedir only to scripts it runs itself.
  const prefix = path.resolve(path.dirname(process.execPath), '..');
  const nodedir = process.env.npm_config_nodedir ?? (existsSync(path.join(prefix, 'include', 'node', 'node_api.h')) ? prefix : undefined);
  execSync(`node-gyp rebuild${nodedir ? ` --nodedir="${nodedir}"` : ''}`, { cwd: root, stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, PATH } });
} catch {
  console.warn('recserve: the native scan did not build (needs python3, make and a C compiler); onnxruntime will score every request');
}

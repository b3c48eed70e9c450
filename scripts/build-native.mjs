// Builds the native scans (native/*.c -> build/Release/recserve_kernel.node) with node-gyp, as npm install
// does. They are optional on a developer's machine: without a compiler the build fails, this says so, and
// onnxruntime scores instead. With RECSERVE_REQUIRE_NATIVE=1 (the Docker image, CI) a failed build fails.
import { execSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname ?? path.dirname(new URL(import.meta.url).pathname), '..');
try {
  // npm puts its own node-gyp on the PATH of install scripts; elsewhere the devDependency's serves.
  const PATH = [process.env.PATH, path.join(root, 'node_modules', '.bin')].join(path.delimiter);
  // Build against the running Node's own headers when it has them: node-gyp would otherwise download them,
  // and npm passes its configured nodedir only to scripts it runs itself.
  const prefix = path.resolve(path.dirname(process.execPath), '..');
  const nodedir = process.env.npm_config_nodedir ?? (existsSync(path.join(prefix, 'include', 'node', 'node_api.h')) ? prefix : undefined);
  execSync(`node-gyp rebuild${nodedir ? ` --nodedir="${nodedir}"` : ''}`, { cwd: root, stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, PATH } });
} catch {
  const required = process.env.RECSERVE_REQUIRE_NATIVE === '1';
  console.warn(`recserve: the native addon did not build (it needs python3, make and a C and C++ compiler)${required ? '' : '; onnxruntime will score every request, and model files will be read into memory instead of mapped'}`);
  if (required) process.exit(1);
}

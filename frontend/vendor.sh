#!/bin/sh
# Re-create frontend/static/vendor/ from npm (run by hand when upgrading; the app never needs npm).
# regl ships only a UMD build, so it is wrapped into an ES module with a default export.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
VENDOR="$HERE/static/vendor"
WORK=$(mktemp -d)
cd "$WORK"
npm init -y >/dev/null
npm install --no-audit --no-fund regl-scatterplot@1.16.0 onnxruntime-web@1.30.0 >/dev/null
M=node_modules
rm -rf "$VENDOR" && mkdir -p "$VENDOR/regl-scatterplot" "$VENDOR/regl" "$VENDOR/pub-sub-es" "$VENDOR/onnxruntime-web"
cp $M/regl-scatterplot/dist/regl-scatterplot.esm.js $M/regl-scatterplot/LICENSE "$VENDOR/regl-scatterplot/"
cp $M/pub-sub-es/dist/index.js $M/pub-sub-es/LICENSE "$VENDOR/pub-sub-es/"
cp $M/regl/LICENSE "$VENDOR/regl/"
# onnxruntime-web (MIT, no LICENSE file in the package): the wasm-only ESM build and the one
# .wasm (+ its .mjs loader) it loads; the other builds (WebGPU, JSEP, asyncify) are not needed.
ORT=$M/onnxruntime-web/dist
cp $ORT/ort.wasm.min.mjs $ORT/ort-wasm-simd-threaded.wasm $ORT/ort-wasm-simd-threaded.mjs "$VENDOR/onnxruntime-web/"
{
  echo "// regl $(node -p "require('./$M/regl/package.json').version") (MIT), UMD build wrapped as an ES module by frontend/vendor.sh."
  echo "const module = { exports: {} };"
  echo "const exports = module.exports;"
  cat $M/regl/dist/regl.min.js
  echo
  echo "export default module.exports;"
} > "$VENDOR/regl/regl.esm.js"
# regl-scatterplot's ESM build inlines these; their licences travel with it.
for p in @flekschas/utils dom-2d-camera camera-2d-simple earcut gl-matrix regl-line; do
  echo "==== $p ($(node -p "require('./$M/$p/package.json').version"))"
  cat $M/$p/LICENSE* 2>/dev/null
  echo
done > "$VENDOR/regl-scatterplot/LICENSE-bundled-dependencies"
for p in regl-scatterplot regl pub-sub-es onnxruntime-web; do
  echo "$p $(node -p "require('./$M/$p/package.json').version")"
done > "$VENDOR/VERSIONS"
rm -rf "$WORK"

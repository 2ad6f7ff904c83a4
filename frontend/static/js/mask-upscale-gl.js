// Mask painting on the browser's GPU (WebGL2): the same arithmetic as mask-upscale.js's
// separable JS path, one fragment per output pixel. Used only with a hardware GL: under a
// software GL (SwiftShader, llvmpipe: GPU-less machines) the 16 taps per pixel cost ~35 ms per
// paint, where the JS path takes a few ms.

import { linkProgram } from "./gl-program.js";

const VERTEX = `#version 300 es
in vec2 corner;
void main() { gl_Position = vec4(corner, 0.0, 1.0); }`;

const FRAGMENT = `#version 300 es
precision highp float;
uniform highp sampler2D logits;   // 256x256 R32F, row 0 = image top
uniform vec2 scale;               // input size / original size (x, y): original px -> padded px
uniform float height;             // original height (gl_FragCoord.y counts from the bottom)
uniform vec2 last;                // input size - 1 (x, y): the crop's last padded pixel
uniform vec4 color;
out vec4 outColor;
const float LOW = 256.0, PADDED = 1024.0;
float texel(ivec2 at) { return texelFetch(logits, clamp(at, ivec2(0), ivec2(255)), 0).r; }
// Bilinear sample of the low-res logits at padded-frame pixel p (integer, half-pixel rule).
float padded(vec2 p) {
  vec2 q = max((p + 0.5) * (LOW / PADDED) - 0.5, 0.0);
  ivec2 i = ivec2(floor(q));
  vec2 f = q - floor(q);
  float top = mix(texel(i), texel(i + ivec2(1, 0)), f.x);
  float bottom = mix(texel(i + ivec2(0, 1)), texel(i + ivec2(1, 1)), f.x);
  return mix(top, bottom, f.y);
}
void main() {
  vec2 pixel = vec2(gl_FragCoord.x - 0.5, height - gl_FragCoord.y - 0.5);
  vec2 p = max((pixel + 0.5) * scale - 0.5, 0.0);
  vec2 i = floor(p);
  vec2 f = p - i;
  vec2 j = min(i + 1.0, last);
  float top = mix(padded(i), padded(vec2(j.x, i.y)), f.x);
  float bottom = mix(padded(vec2(i.x, j.y)), padded(j), f.x);
  outColor = mix(top, bottom, f.y) > 0.0 ? color : vec4(0.0);
}`;

function program(gl) {
  const p = linkProgram(gl, VERTEX, FRAGMENT, "mask upscale shader");
  gl.useProgram(p);
  const quad = gl.createBuffer();
  gl.bindBuffer(gl.ARRAY_BUFFER, quad);
  gl.bufferData(gl.ARRAY_BUFFER, new Float32Array([-1, -1, 1, -1, -1, 1, 1, 1]), gl.STATIC_DRAW);
  const at = gl.getAttribLocation(p, "corner");
  gl.enableVertexAttribArray(at);
  gl.vertexAttribPointer(at, 2, gl.FLOAT, false, 0, 0);
  return p;
}

const SOFTWARE_GL = /swiftshader|llvmpipe|softpipe|software/i;

function renderer(gl) {
  const info = gl.getExtension("WEBGL_debug_renderer_info");
  return String(gl.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
}

/**
 * A GPU painter, or null without WebGL2 or (unless `force`) with a software GL.
 * paint(logits Float32Array(256*256), frame {originalSize, inputSize}, rgba) -> HxW canvas.
 */
export function createGlPainter({ force = false } = {}) {
  const canvas = new OffscreenCanvas(1, 1);
  const gl = canvas.getContext("webgl2", {
    premultipliedAlpha: false,
    preserveDrawingBuffer: true,
  });
  if (!gl || (!force && SOFTWARE_GL.test(renderer(gl)))) return null;
  const p = program(gl);
  const texture = gl.createTexture();
  gl.bindTexture(gl.TEXTURE_2D, texture);
  for (const k of [gl.TEXTURE_MIN_FILTER, gl.TEXTURE_MAG_FILTER])
    gl.texParameteri(gl.TEXTURE_2D, k, gl.NEAREST);
  const uniform = (name) => gl.getUniformLocation(p, name);

  return {
    paint(logits, { originalSize: [h, w], inputSize: [ih, iw] }, [r, g, b, a]) {
      canvas.width = w;
      canvas.height = h;
      gl.viewport(0, 0, w, h);
      gl.texImage2D(gl.TEXTURE_2D, 0, gl.R32F, 256, 256, 0, gl.RED, gl.FLOAT, logits);
      gl.uniform2f(uniform("scale"), iw / w, ih / h);
      gl.uniform1f(uniform("height"), h);
      gl.uniform2f(uniform("last"), iw - 1, ih - 1);
      gl.uniform4f(uniform("color"), r / 255, g / 255, b / 255, a / 255);
      gl.drawArrays(gl.TRIANGLE_STRIP, 0, 4);
      const layer = new OffscreenCanvas(w, h);
      layer.getContext("2d").drawImage(canvas, 0, 0);
      return layer;
    },
  };
}

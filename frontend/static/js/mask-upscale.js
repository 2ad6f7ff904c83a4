// SAM's 256x256 low-res logits -> a full-size mask, on the browser's GPU (WebGL2).
// Same arithmetic as the server (app/inference/sam.py _upscale): bilinear (half-pixel centres)
// to the 1024 padded square, crop to the input size, bilinear to the original size, logit > 0.
// The fragment shader evaluates both resizes exactly, so browser and server masks agree.

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

function compile(gl, type, source) {
  const shader = gl.createShader(type);
  gl.shaderSource(shader, source);
  gl.compileShader(shader);
  if (!gl.getShaderParameter(shader, gl.COMPILE_STATUS)) throw new Error(gl.getShaderInfoLog(shader));
  return shader;
}

function program(gl) {
  const p = gl.createProgram();
  gl.attachShader(p, compile(gl, gl.VERTEX_SHADER, VERTEX));
  gl.attachShader(p, compile(gl, gl.FRAGMENT_SHADER, FRAGMENT));
  gl.linkProgram(p);
  if (!gl.getProgramParameter(p, gl.LINK_STATUS)) throw new Error(gl.getProgramInfoLog(p));
  gl.useProgram(p);
  const quad = gl.createBuffer();
  gl.bindBuffer(gl.ARRAY_BUFFER, quad);
  gl.bufferData(gl.ARRAY_BUFFER, new Float32Array([-1, -1, 1, -1, -1, 1, 1, 1]), gl.STATIC_DRAW);
  const at = gl.getAttribLocation(p, "corner");
  gl.enableVertexAttribArray(at);
  gl.vertexAttribPointer(at, 2, gl.FLOAT, false, 0, 0);
  return p;
}

/** An upscaler, or null when WebGL2 is unavailable (the caller then uses server masks). */
export function createUpscaler() {
  const canvas = new OffscreenCanvas(1, 1);
  const gl = canvas.getContext("webgl2", { premultipliedAlpha: false, preserveDrawingBuffer: true });
  if (!gl) return null;
  const p = program(gl);
  const texture = gl.createTexture();
  gl.bindTexture(gl.TEXTURE_2D, texture);
  for (const k of [gl.TEXTURE_MIN_FILTER, gl.TEXTURE_MAG_FILTER]) gl.texParameteri(gl.TEXTURE_2D, k, gl.NEAREST);
  const uniform = (name) => gl.getUniformLocation(p, name);

  function render(logits, { originalSize: [h, w], inputSize: [ih, iw] }, [r, g, b, a]) {
    canvas.width = w;
    canvas.height = h;
    gl.viewport(0, 0, w, h);
    gl.texImage2D(gl.TEXTURE_2D, 0, gl.R32F, 256, 256, 0, gl.RED, gl.FLOAT, logits);
    gl.uniform2f(uniform("scale"), iw / w, ih / h);
    gl.uniform1f(uniform("height"), h);
    gl.uniform2f(uniform("last"), iw - 1, ih - 1);
    gl.uniform4f(uniform("color"), r / 255, g / 255, b / 255, a / 255);
    gl.drawArrays(gl.TRIANGLE_STRIP, 0, 4);
  }

  return {
    /** logits: Float32Array(256*256) row-major; frame: {originalSize, inputSize} as [h, w]. -> HxW canvas. */
    paint(logits, frame, rgba) {
      render(logits, frame, rgba);
      const [h, w] = frame.originalSize;
      const layer = new OffscreenCanvas(w, h);
      layer.getContext("2d").drawImage(canvas, 0, 0);
      return layer;
    },
    /** -> {width, height, data: Uint8Array(h*w) row-major, 1 = foreground} (rle.js' mask form). */
    mask(logits, frame) {
      render(logits, frame, [255, 255, 255, 255]);
      const [h, w] = frame.originalSize;
      const rgba = new Uint8Array(w * h * 4);
      gl.readPixels(0, 0, w, h, gl.RGBA, gl.UNSIGNED_BYTE, rgba);
      const data = new Uint8Array(w * h);
      // readPixels rows run bottom-up; flip to row 0 = image top.
      for (let y = 0; y < h; y++) {
        const src = (h - 1 - y) * w * 4;
        for (let x = 0; x < w; x++) data[y * w + x] = rgba[src + 4 * x + 3] > 127 ? 1 : 0;
      }
      return { width: w, height: h, data };
    },
  };
}

// WebGL2 points straight from typed arrays: x, y (Float32Array, map units) and a category per
// point (Int32Array) index a palette texture; subsets (the filter, the points a recolour
// changed) are drawn through an index buffer. Nothing per point is ever a JS object. With
// `rings`, the layer draws hollow rings (the selection, on a transparent canvas above).

import { linkProgram } from "./gl-program.js";

const VERTEX = `#version 300 es
in float a_x;
in float a_y;
in int a_category;
uniform vec4 u_view; // clip = (map - centre) * scale: (centre x, centre y, scale x, scale y)
uniform float u_size;
uniform sampler2D u_palette;
out vec4 v_color;
void main() {
  gl_Position = vec4((a_x - u_view.x) * u_view.z, (a_y - u_view.y) * u_view.w, 0.0, 1.0);
  gl_PointSize = u_size;
  v_color = texelFetch(u_palette, ivec2(a_category, 0), 0);
}`;

// Round points, or (u_ring > 0) translucent light rings from radius u_ring out.
const FRAGMENT = `#version 300 es
precision mediump float;
in vec4 v_color;
uniform float u_ring;
out vec4 colour;
void main() {
  float r = length(gl_PointCoord - 0.5) * 2.0;
  if (r > 1.0 || r < u_ring) discard;
  colour = u_ring > 0.0 ? vec4(0.95, 0.95, 0.95, 0.6) : v_color;
}`;

const POINT_PX = 3;
const RING_PX = 5;
const RING_INNER = 0.55;

// "#rrggbb" or "#rrggbbaa" -> 4 bytes.
function rgba(hex) {
  const channel = (i) => parseInt(hex.slice(1 + 2 * i, 3 + 2 * i), 16);
  return [channel(0), channel(1), channel(2), hex.length === 9 ? channel(3) : 255];
}

/**
 * createGlPoints(canvas, {rings}) -> {setPoints, setCategories, setPalette, setSubset, draw}.
 * draw(view, {points, keep}) clears and draws the subset (all points when none), or those
 * points, over what the canvas shows (preserved between frames) with `keep`.
 * `view` is {cx, cy, sx, sy}: clip = (map - centre) * scale.
 */
export function createGlPoints(canvas, { rings = false } = {}) {
  const gl = canvas.getContext("webgl2", {
    antialias: false,
    preserveDrawingBuffer: true,
    premultipliedAlpha: false,
  });
  if (!gl) throw new Error("This browser has no WebGL2: the map cannot be drawn.");
  const program = linkProgram(gl, VERTEX, FRAGMENT, "map shader");
  const at = (name) => gl.getUniformLocation(program, name);
  const uniforms = {
    view: at("u_view"),
    size: at("u_size"),
    ring: at("u_ring"),
    palette: at("u_palette"),
  };
  const vao = gl.createVertexArray();
  const buffers = { x: gl.createBuffer(), y: gl.createBuffer(), category: gl.createBuffer() };
  const subset = { buffer: gl.createBuffer(), count: -1 }; // -1: every point
  const only = { buffer: gl.createBuffer(), count: 0 };
  const palette = gl.createTexture();
  let count = 0;

  gl.bindVertexArray(vao);
  for (const name of ["x", "y"]) {
    const location = gl.getAttribLocation(program, `a_${name}`);
    gl.bindBuffer(gl.ARRAY_BUFFER, buffers[name]);
    gl.enableVertexAttribArray(location);
    gl.vertexAttribPointer(location, 1, gl.FLOAT, false, 0, 0);
  }
  const categoryAt = gl.getAttribLocation(program, "a_category");
  gl.bindBuffer(gl.ARRAY_BUFFER, buffers.category);
  gl.enableVertexAttribArray(categoryAt);
  gl.vertexAttribIPointer(categoryAt, 1, gl.INT, 0, 0);
  gl.bindVertexArray(null);

  function upload(target, buffer, data) {
    gl.bindBuffer(target, buffer);
    gl.bufferData(target, data, gl.DYNAMIC_DRAW);
  }

  function drawIndexed(indices) {
    gl.bindBuffer(gl.ELEMENT_ARRAY_BUFFER, indices.buffer);
    gl.drawElements(gl.POINTS, indices.count, gl.UNSIGNED_INT, 0);
  }

  const layer = {
    /** xs, ys: Float32Array(N) map coordinates. */
    setPoints(xs, ys) {
      count = xs.length;
      upload(gl.ARRAY_BUFFER, buffers.x, xs);
      upload(gl.ARRAY_BUFFER, buffers.y, ys);
      layer.setCategories(new Int32Array(count));
    },
    /** categories: Int32Array(N), each an index into the palette. */
    setCategories(categories) {
      upload(gl.ARRAY_BUFFER, buffers.category, categories);
    },
    /** colors: ["#rrggbb" | "#rrggbbaa"], indexed by category. */
    setPalette(colors) {
      gl.bindTexture(gl.TEXTURE_2D, palette);
      const texels = new Uint8Array(colors.flatMap(rgba));
      gl.texImage2D(
        gl.TEXTURE_2D,
        0,
        gl.RGBA8,
        colors.length,
        1,
        0,
        gl.RGBA,
        gl.UNSIGNED_BYTE,
        texels,
      );
      gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MIN_FILTER, gl.NEAREST);
      gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MAG_FILTER, gl.NEAREST);
    },
    /** The points a full draw shows: Uint32Array of point indices, or null for all. */
    setSubset(indices) {
      subset.count = indices === null ? -1 : indices.length;
      if (indices !== null) upload(gl.ELEMENT_ARRAY_BUFFER, subset.buffer, indices);
    },
    /** Clear and draw the subset; or with `points` (Uint32Array) draw those instead, over
     * the current picture when `keep` (it is preserved between frames). */
    draw({ cx, cy, sx, sy }, { points = null, keep = false } = {}) {
      gl.viewport(0, 0, canvas.width, canvas.height);
      if (!keep) {
        const alpha = rings ? 0 : 1; // rings go on a transparent canvas
        gl.clearColor(0.05 * alpha, 0.05 * alpha, 0.06 * alpha, alpha);
        gl.clear(gl.COLOR_BUFFER_BIT);
      }
      // Rings overwrite, never add up: a dense selection stays a light veil over its colours.
      if (rings) gl.disable(gl.BLEND);
      else gl.enable(gl.BLEND);
      // The canvas stays opaque: translucent points blend into the background, not the page.
      gl.blendFuncSeparate(gl.SRC_ALPHA, gl.ONE_MINUS_SRC_ALPHA, gl.ONE, gl.ONE_MINUS_SRC_ALPHA);
      gl.useProgram(program);
      gl.bindVertexArray(vao);
      gl.activeTexture(gl.TEXTURE0);
      gl.bindTexture(gl.TEXTURE_2D, palette);
      gl.uniform1i(uniforms.palette, 0);
      gl.uniform4f(uniforms.view, cx, cy, sx, sy);
      gl.uniform1f(uniforms.size, (rings ? RING_PX : POINT_PX) * (window.devicePixelRatio || 1));
      gl.uniform1f(uniforms.ring, rings ? RING_INNER : 0);
      if (points !== null) {
        only.count = points.length;
        upload(gl.ELEMENT_ARRAY_BUFFER, only.buffer, points);
        drawIndexed(only);
      } else if (subset.count < 0) gl.drawArrays(gl.POINTS, 0, count);
      else drawIndexed(subset);
      gl.bindVertexArray(null);
    },
  };
  layer.setPalette(["#ffffff"]); // a complete texture from the start (rings never set one)
  const info = gl.getExtension("WEBGL_debug_renderer_info");
  const renderer = String(gl.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
  /** Whether the CPU rasterises (SwiftShader, llvmpipe): ~0.6 us a point per frame. */
  layer.software = /swiftshader|llvmpipe|softpipe|software/i.test(renderer);
  return layer;
}

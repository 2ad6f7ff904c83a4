// A WebGL2 program from its two shader sources; a compile or link failure throws with the
// driver's log, prefixed by what the program is for.

function compile(gl, type, source, what) {
  const shader = gl.createShader(type);
  gl.shaderSource(shader, source);
  gl.compileShader(shader);
  if (!gl.getShaderParameter(shader, gl.COMPILE_STATUS))
    throw new Error(`${what}: ${gl.getShaderInfoLog(shader)}`);
  return shader;
}

export function linkProgram(gl, vertex, fragment, what) {
  const program = gl.createProgram();
  gl.attachShader(program, compile(gl, gl.VERTEX_SHADER, vertex, what));
  gl.attachShader(program, compile(gl, gl.FRAGMENT_SHADER, fragment, what));
  gl.linkProgram(program);
  if (!gl.getProgramParameter(program, gl.LINK_STATUS))
    throw new Error(`${what}: ${gl.getProgramInfoLog(program)}`);
  return program;
}

// SAM's prompt decoder in the page (onnxruntime-web, wasm): one session per model, embeddings
// fetched once per image from the server's cache. Inputs follow app/inference/decoder.py.
import { lowResClick, refiningToken } from "./refinement.js";

const ORT_DIR = "/static/vendor/onnxruntime-web/";
const LOW = 256;
const PROJECTED = 3; // images whose image-graph outputs (6 MB each) stay in memory

/** fp16 bits (Uint16Array) -> Float32Array; once per image, not per click. */
function halfToFloat(bits) {
  if (typeof Float16Array === "function") return Float32Array.from(new Float16Array(bits.buffer));
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) {
    const h = bits[i],
      e = (h >> 10) & 31,
      m = h & 1023,
      s = h & 32768 ? -1 : 1;
    out[i] =
      e === 0
        ? s * m * 2 ** -24
        : e === 31
          ? m
            ? NaN
            : s * Infinity
          : s * (1 + m / 1024) * 2 ** (e - 15);
  }
  return out;
}

const pair = (text) => text.split(",").map(Number);

/**
 * onnxruntime-web threads: one core is left to the page (its main thread spin-waits on the
 * workers), so a 2-core machine decodes on one thread; measured there, two threads were slower
 * whenever anything else used the CPU (bench/browser_decoder.py --threads-web). More than one
 * thread needs cross-origin isolation (the app sends COOP/COEP). ?threads=N overrides.
 */
function wasmThreads() {
  if (!self.crossOriginIsolated) return 1;
  const forced = Number(new URLSearchParams(location.search).get("threads"));
  if (forced > 0) return Math.min(forced, 8);
  return Math.max(1, Math.min(4, (navigator.hardwareConcurrency || 1) - 1));
}

/**
 * A local decoder for `modelId`, or null when this browser or server cannot run one
 * (no WebAssembly, no ONNX export): callers then use the server's /predict.
 */
export async function createLocalDecoder(modelId) {
  if (typeof WebAssembly !== "object" || !modelId) return null;
  const ort = await import(`${ORT_DIR}ort.wasm.min.mjs`);
  ort.env.wasm.wasmPaths = ORT_DIR;
  ort.env.wasm.numThreads = wasmThreads();
  // image + prompt (app/inference/split_decoder.py): the full graph's maths split at the image,
  // for hover previews and clicks without a mask input; the image part runs once per image.
  // full: refinement clicks (a mask input). ?split=0 keeps every click on the full graph
  // (bench/browser_decoder.py --no-split).
  const graph = async (part) => {
    const response = await fetch(
      `/api/models/${encodeURIComponent(modelId)}/decoder.onnx?part=${part}`,
    );
    return response.ok ? new Uint8Array(await response.arrayBuffer()) : null;
  };
  const open = (bytes) =>
    bytes && ort.InferenceSession.create(bytes, { executionProviders: ["wasm"] });
  let queue = Promise.resolve();
  /** Run task after everything queued before it: onnxruntime-web sessions are not
   * re-entrant, and its wasm initialises once, so sessions are also created in turn. */
  function serially(task) {
    const result = queue.then(task);
    queue = result.catch(() => {});
    return result;
  }
  const wantSplit = new URLSearchParams(location.search).get("split") !== "0";
  const [imageBytes, promptBytes, fullBytes] = [
    wantSplit && graph("image"),
    wantSplit && graph("prompt"),
    graph("full"),
  ];
  const imageSession = await serially(async () => open(await imageBytes));
  const promptSession = await serially(async () => open(await promptBytes));
  const split = Boolean(imageSession && promptSession);
  // With the split, the full graph loads behind the first hovers and clicks (only refinement
  // needs it); without, nothing works until it is here.
  const fullSession = fullBytes.then((bytes) => serially(() => open(bytes)));
  fullSession.catch(() => {}); // a failure is reported by the refinement that needed it
  if (!split && !(await fullSession)) return null;
  const embeddings = new Map();
  const projections = new Map(); // imageId -> Promise of the image graph's outputs, newest last
  // Built once: most clicks and every hover preview carry no previous mask.
  const noMask = new ort.Tensor("float32", new Float32Array(LOW * LOW), [1, 1, LOW, LOW]);
  const hasNoMask = new ort.Tensor("float32", Float32Array.of(0), [1]);
  const hasMask = new ort.Tensor("float32", Float32Array.of(1), [1]);

  async function fetchEmbedding(imageId) {
    const answer = await fetch(`/api/images/${imageId}/embedding`);
    if (!answer.ok) throw new Error(`embedding of image ${imageId}: HTTP ${answer.status}`);
    const shape = pair(answer.headers.get("X-Embedding-Shape"));
    const data = halfToFloat(new Uint16Array(await answer.arrayBuffer()));
    return {
      features: new ort.Tensor("float32", data, shape),
      originalSize: pair(answer.headers.get("X-Original-Size")),
      inputSize: pair(answer.headers.get("X-Input-Size")),
    };
  }

  function embedding(imageId) {
    if (!embeddings.has(imageId)) {
      const pending = fetchEmbedding(imageId);
      pending.catch(() => embeddings.delete(imageId));
      embeddings.set(imageId, pending);
    }
    return embeddings.get(imageId);
  }

  /** The image graph's outputs for imageId; kept for the last PROJECTED images only. */
  function projected(imageId, frame) {
    if (!projections.has(imageId)) {
      const pending = imageSession.run({ image_embeddings: frame.features });
      pending.catch(() => projections.delete(imageId));
      projections.set(imageId, pending);
      for (const old of projections.keys())
        if (projections.size > PROJECTED) projections.delete(old);
    }
    const pending = projections.get(imageId);
    projections.delete(imageId); // re-inserted: Map order is the recency order
    projections.set(imageId, pending);
    return pending;
  }

  function pointFeeds(frame, prompts) {
    const points = [...prompts.points],
      labels = [...prompts.labels];
    if (prompts.box) {
      const [x0, y0, x1, y1] = prompts.box;
      points.push([x0, y0], [x1, y1]);
      labels.push(2, 3);
    } else {
      points.push([0, 0]);
      labels.push(-1); // SAM's 'not a point' padding when there is no box
    }
    const [h, w] = frame.originalSize,
      [ih, iw] = frame.inputSize;
    const coords = Float32Array.from(points.flatMap(([x, y]) => [x * (iw / w), y * (ih / h)]));
    const n = points.length;
    return {
      image_embeddings: frame.features,
      point_coords: new ort.Tensor("float32", coords, [1, n, 2]),
      point_labels: new ort.Tensor("float32", Float32Array.from(labels), [1, n]),
    };
  }

  async function decodeOnce(imageId, frame, prompts, maskInput) {
    if (split && !maskInput) {
      return promptSession.run({
        ...pointFeeds(frame, prompts),
        ...(await projected(imageId, frame)),
      });
    }
    const session = await fullSession;
    if (!session) throw new Error("the decoder's full graph did not load: refine on the server");
    return session.run({
      ...pointFeeds(frame, prompts),
      mask_input: maskInput ? new ort.Tensor("float32", maskInput, [1, 1, LOW, LOW]) : noMask,
      has_mask_input: maskInput ? hasMask : hasNoMask,
    });
  }

  /** The tokens answering, best first (app/inference/sam.py's _tokens); scores clipped. */
  function tokensOf(frame, prompts, logits, raw, scores, options) {
    const { maskInput, multimask, previousScore, candidate } = options;
    if (multimask) return [1, 2, 3].sort((a, b) => raw[b] - raw[a]);
    if (!maskInput || previousScore === null) return [0];
    const n = prompts.points.length;
    const click = n
      ? lowResClick(
          prompts.points[n - 1],
          prompts.labels[n - 1],
          frame.originalSize,
          frame.inputSize,
        )
      : null;
    return [refiningToken(logits, scores, maskInput, previousScore, candidate, click)];
  }

  async function run(imageId, prompts, options) {
    const frame = await embedding(imageId);
    const out = await decodeOnce(imageId, frame, prompts, options.maskInput);
    const logits = out.low_res_masks.data,
      raw = out.iou_predictions.data,
      scores = Array.from(raw, (s) => Math.min(1, Math.max(0, s)));
    const masks = tokensOf(frame, prompts, logits, raw, scores, options).map((t) => ({
      logits: logits.subarray(t * LOW * LOW, (t + 1) * LOW * LOW), // a view: outputs are fresh per run
      score: scores[t],
      token: t,
    }));
    return { masks, frame };
  }

  return {
    modelId,
    threads: ort.env.wasm.numThreads,
    split: Boolean(split),
    /** Start fetching (and converting) these images' embeddings. */
    prefetch(imageIds) {
      for (const id of imageIds) embedding(id).catch(() => {});
    },
    /** Whether imageId's embedding is already here (hover previews wait for it, never fetch). */
    ready: (imageId) => embeddings.has(imageId),
    /**
     * prompts in canonical image pixels (prompts.js); maskInput: a previous mask's logits
     * (Float32Array 256*256) or null, previousScore: its predicted IoU (a single-mask
     * refinement is then guarded against setbacks, refinement.js), candidate: the token of
     * the one-click candidate its chain of refinements began with, or null.
     * -> {masks: [{logits, score, token}] by predicted IoU, best first, frame}.
     * Runs one at a time (onnxruntime sessions are not re-entrant).
     */
    decode(
      imageId,
      prompts,
      { maskInput = null, multimask = true, previousScore = null, candidate = null } = {},
    ) {
      // A refinement waits for the full graph outside the queue: its creation is queued too.
      const ready = maskInput ? fullSession : Promise.resolve();
      const options = { maskInput, multimask, previousScore, candidate };
      return ready.then(() => serially(() => run(imageId, prompts, options)));
    },
  };
}

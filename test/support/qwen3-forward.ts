/**
 * A plain-TypeScript Qwen3 forward pass (float64 loops, no onnxruntime), written from the model
 * definition (HF's Qwen3ForCausalLM, eager attention) to check the ONNX test model against.
 * Weights are the testmodel's: linear weights stored [in, out], embedding [vocab, hidden], tied.
 */
import type { Qwen3Shape } from "../../src/inference/testmodel/shapes.js";
import type { Qwen3Weights } from "../../src/inference/testmodel/weights.js";

export interface LayerCache {
  /** [batch, kv_heads, length, head_dim]. */
  key: Float32Array;
  value: Float32Array;
}

export interface ForwardInput {
  batch: number;
  /** [batch, seq] token ids. */
  inputIds: number[][];
  /** [batch, past + seq] of 0/1. */
  attentionMask: number[][];
  /** [batch, seq]. */
  positionIds: number[][];
  /** Per layer; absent means an empty past. */
  past?: LayerCache[];
}

export interface ForwardOutput {
  /** [batch, seq, vocab]. */
  logits: Float64Array;
  /** Per layer, [batch, kv_heads, past + seq, head_dim]. */
  present: LayerCache[];
}

function weight(weights: Qwen3Weights, name: string): Float32Array {
  const w = weights.get(name);
  if (!w) throw new Error(`missing weight ${name}`);
  return w;
}

/** out = x . W for W stored [in, out] row-major. */
function linear(x: Float64Array, w: Float32Array, outSize: number): Float64Array {
  const out = new Float64Array(outSize);
  for (let i = 0; i < x.length; i++) {
    const xi = x[i] as number;
    const row = i * outSize;
    for (let j = 0; j < outSize; j++) out[j] = (out[j] as number) + xi * (w[row + j] as number);
  }
  return out;
}

/** Qwen3RMSNorm over consecutive groups of `size` values: x * rsqrt(mean(x^2) + eps) * gain. */
function rmsNorm(x: Float64Array, gain: Float32Array, size: number, eps: number): Float64Array {
  const out = new Float64Array(x.length);
  for (let start = 0; start < x.length; start += size) {
    let squares = 0;
    for (let i = 0; i < size; i++) squares += (x[start + i] as number) ** 2;
    const inv = 1 / Math.sqrt(squares / size + eps);
    for (let i = 0; i < size; i++)
      out[start + i] = (x[start + i] as number) * inv * (gain[i] as number);
  }
  return out;
}

/** In-place rotary embedding of each head in x (heads * headDim values) at one position. */
function applyRope(x: Float64Array, headDim: number, position: number, theta: number): void {
  const half = headDim / 2;
  for (let start = 0; start < x.length; start += headDim) {
    for (let i = 0; i < half; i++) {
      const angle = position * theta ** ((-2 * i) / headDim);
      const c = Math.cos(angle);
      const s = Math.sin(angle);
      const a = x[start + i] as number;
      const b = x[start + half + i] as number;
      // x * cos + rotate_half(x) * sin with rotate_half(x) = (-x2, x1).
      x[start + i] = a * c - b * s;
      x[start + half + i] = b * c + a * s;
    }
  }
}

export function qwen3Forward(
  shape: Qwen3Shape,
  weights: Qwen3Weights,
  input: ForwardInput,
): ForwardOutput {
  const { batch, inputIds, attentionMask, positionIds } = input;
  const { hiddenSize: h, headDim: d, numHeads, numKvHeads, intermediateSize, vocabSize } = shape;
  const seq = inputIds[0]?.length ?? 0;
  const total = attentionMask[0]?.length ?? 0;
  const past = total - seq;
  const groups = numHeads / numKvHeads;
  const eps = shape.rmsNormEps;
  const embed = weight(weights, "model.embed_tokens.weight");

  // hidden[b][s]: the residual stream of each token.
  let hidden: Float64Array[][] = inputIds.map((row) =>
    row.map((id) => Float64Array.from(embed.subarray(id * h, (id + 1) * h))),
  );
  const present: LayerCache[] = [];

  for (let layer = 0; layer < shape.numLayers; layer++) {
    const p = `model.layers.${layer}`;
    const w = (name: string) => weight(weights, `${p}.${name}.weight`);
    const cacheKey = new Float32Array(batch * numKvHeads * total * d);
    const cacheValue = new Float32Array(batch * numKvHeads * total * d);
    const at = (b: number, head: number, t: number) => ((b * numKvHeads + head) * total + t) * d;
    const pastLayer = input.past?.[layer];
    if (pastLayer && past > 0) {
      for (let b = 0; b < batch; b++) {
        for (let head = 0; head < numKvHeads; head++) {
          for (let t = 0; t < past; t++) {
            const from = ((b * numKvHeads + head) * past + t) * d;
            cacheKey.set(pastLayer.key.subarray(from, from + d), at(b, head, t));
            cacheValue.set(pastLayer.value.subarray(from, from + d), at(b, head, t));
          }
        }
      }
    }

    // Projections of every new token; keys and values go to the cache, queries are kept.
    const queries: Float64Array[][] = [];
    for (let b = 0; b < batch; b++) {
      queries.push([]);
      for (let s = 0; s < seq; s++) {
        const x = rmsNorm(hidden[b]?.[s] as Float64Array, w("input_layernorm"), h, eps);
        const position = positionIds[b]?.[s] as number;
        const q = rmsNorm(
          linear(x, w("self_attn.q_proj"), numHeads * d),
          w("self_attn.q_norm"),
          d,
          eps,
        );
        const k = rmsNorm(
          linear(x, w("self_attn.k_proj"), numKvHeads * d),
          w("self_attn.k_norm"),
          d,
          eps,
        );
        const v = linear(x, w("self_attn.v_proj"), numKvHeads * d);
        applyRope(q, d, position, shape.ropeTheta);
        applyRope(k, d, position, shape.ropeTheta);
        queries[b]?.push(q);
        for (let head = 0; head < numKvHeads; head++) {
          cacheKey.set(k.subarray(head * d, (head + 1) * d), at(b, head, past + s));
          cacheValue.set(v.subarray(head * d, (head + 1) * d), at(b, head, past + s));
        }
      }
    }
    present.push({ key: cacheKey, value: cacheValue });

    const next: Float64Array[][] = [];
    for (let b = 0; b < batch; b++) {
      next.push([]);
      for (let s = 0; s < seq; s++) {
        const q = queries[b]?.[s] as Float64Array;
        const context = new Float64Array(numHeads * d);
        for (let head = 0; head < numHeads; head++) {
          const kvHead = Math.floor(head / groups);
          // Visible keys: not padding, and not after this query (absolute index past + s).
          const visible: number[] = [];
          for (let t = 0; t < total; t++) {
            if (attentionMask[b]?.[t] === 1 && t <= past + s) visible.push(t);
          }
          // A query that sees nothing (a left-padding position) averages every value, which is
          // what the float32-lowest additive mask gives: all scores equal, uniform softmax.
          const keys = visible.length > 0 ? visible : Array.from({ length: total }, (_, t) => t);
          const scores = keys.map((t) => {
            let dot = 0;
            const base = at(b, kvHead, t);
            for (let i = 0; i < d; i++)
              dot += (q[head * d + i] as number) * (cacheKey[base + i] as number);
            return visible.length > 0 ? dot / Math.sqrt(d) : 0;
          });
          const max = Math.max(...scores);
          const exps = scores.map((score) => Math.exp(score - max));
          const sum = exps.reduce((a, e) => a + e, 0);
          keys.forEach((t, index) => {
            const weightOf = (exps[index] as number) / sum;
            const base = at(b, kvHead, t);
            for (let i = 0; i < d; i++) {
              context[head * d + i] =
                (context[head * d + i] as number) + weightOf * (cacheValue[base + i] as number);
            }
          });
        }
        const residual = hidden[b]?.[s] as Float64Array;
        const attended = linear(context, w("self_attn.o_proj"), h);
        const afterAttention = residual.map((value, i) => value + (attended[i] as number));

        const x = rmsNorm(afterAttention, w("post_attention_layernorm"), h, eps);
        const gate = linear(x, w("mlp.gate_proj"), intermediateSize);
        const up = linear(x, w("mlp.up_proj"), intermediateSize);
        const act = gate.map((g, i) => (g / (1 + Math.exp(-g))) * (up[i] as number));
        const down = linear(act, w("mlp.down_proj"), h);
        next[b]?.push(afterAttention.map((value, i) => value + (down[i] as number)));
      }
    }
    hidden = next;
  }

  // Final norm and the tied lm_head: logit v = normed . embedding row v.
  const logits = new Float64Array(batch * seq * vocabSize);
  const finalNorm = weight(weights, "model.norm.weight");
  for (let b = 0; b < batch; b++) {
    for (let s = 0; s < seq; s++) {
      const x = rmsNorm(hidden[b]?.[s] as Float64Array, finalNorm, h, eps);
      const base = (b * seq + s) * vocabSize;
      for (let v = 0; v < vocabSize; v++) {
        let dot = 0;
        const row = v * h;
        for (let i = 0; i < h; i++) dot += (x[i] as number) * (embed[row + i] as number);
        logits[base + v] = dot;
      }
    }
  }
  return { logits, present };
}

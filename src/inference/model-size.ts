/**
 * Parameter count of a Llama/Qwen-family decoder from its config.json, for run manifests (the
 * scaling analysis reads model size from there). Null when the config lacks a needed field.
 */
export function parameterCountFromConfig(config: Record<string, unknown>): number | null {
  const int = (key: string) => {
    const value = config[key];
    return typeof value === "number" && Number.isInteger(value) && value > 0 ? value : null;
  };
  const hidden = int("hidden_size");
  const layers = int("num_hidden_layers");
  const heads = int("num_attention_heads");
  const inter = int("intermediate_size");
  const vocab = int("vocab_size");
  if (hidden === null || layers === null || heads === null || inter === null || vocab === null)
    return null;
  const kvHeads = int("num_key_value_heads") ?? heads;
  const headDim = int("head_dim") ?? hidden / heads;
  const attention =
    hidden * heads * headDim + 2 * hidden * kvHeads * headDim + heads * headDim * hidden;
  // Qwen3 normalises q and k per head (q_norm, k_norm); every layer has two RMSNorms.
  const norms = 2 * hidden + (config.model_type === "qwen3" ? 2 * headDim : 0);
  const perLayer = attention + 3 * hidden * inter + norms;
  const embeddings = vocab * hidden * (config.tie_word_embeddings === false ? 2 : 1);
  return layers * perLayer + embeddings + hidden;
}

/** `deepconf replay`: read a pool file, replay every instance, build the report. */
import { replayInstance, replayTotals } from "../engine/replay.js";
import { type ReplayParams, replayDocument, replayText } from "./report.js";
import { loadSources } from "./sources.js";

export type { ReplayParams } from "./report.js";

export interface ReplayOutput {
  document: ReturnType<typeof replayDocument>;
  text: string;
}

/** Replays a pool file or a run directory (its recorded confidences and verdicts). */
export async function replayFile(path: string, given: ReplayParams): Promise<ReplayOutput> {
  const sources = await loadSources([path], given.topk);
  // Recorded confidences carry their own k; --topk applies to pools of log-probs only.
  const params = { ...given, topk: sources.topk };
  const instances = sources.instances.map((instance) => replayInstance(instance, params));
  const totals = replayTotals(instances);
  return {
    document: replayDocument(params, instances, totals),
    text: replayText(params, instances, totals),
  };
}

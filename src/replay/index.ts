/** `deepconf replay`: read a pool file, replay every instance, build the report. */
import { replayInstance, replayTotals } from "../engine/replay.js";
import { readPool } from "./pool.js";
import { type ReplayParams, replayDocument, replayText } from "./report.js";

export type { ReplayParams } from "./report.js";

export interface ReplayOutput {
  document: ReturnType<typeof replayDocument>;
  text: string;
}

export async function replayFile(file: string, params: ReplayParams): Promise<ReplayOutput> {
  const pool = await readPool(file, { topk: params.topk });
  const instances = pool.map((instance) => replayInstance(instance, params));
  const totals = replayTotals(instances);
  return {
    document: replayDocument(params, instances, totals),
    text: replayText(params, instances, totals),
  };
}

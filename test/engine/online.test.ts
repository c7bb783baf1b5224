import { describe, expect, test } from "vitest";
import { OnlineController, type OnlineOptions, type TraceHandle } from "../../src/engine/online.js";

const base: OnlineOptions = { window: 2, tail: 2, topk: 20, warmup: 2, eta: 10, budget: 4, tau: 1 };

/** Runs one trace through the controller: feeds confidences until the end or a stop. */
function run(controller: OnlineController, answer: string | null, c: number[], id?: string) {
  const handle = controller.startTrace(id);
  for (const x of c) if (handle.monitor.pushConfidence(x)) break;
  controller.finishTrace(handle, answer);
  return handle;
}

describe("OnlineController", () => {
  test("warmup sets s = percentile_{100-eta} of warmup lowest; later traces stop below it", () => {
    const controller = new OnlineController(base);
    run(controller, "a", [5, 5, 5]); // lowest 5
    expect(controller.threshold).toBeNull();
    run(controller, "a", [3, 3, 3]); // lowest 3
    // eta 10: 90th percentile of {3, 5} = 4.8
    expect(controller.threshold).toBeCloseTo(4.8, 12);
    const stopped = run(controller, "a", [6, 6, 1, 1]); // groups 6, 3.5: stops after 3 tokens
    expect(stopped.monitor.stopped).toBe(true);
    expect(stopped.monitor.tokens).toBe(3);
    run(controller, "b", [5, 6]); // one group 5.5 >= s: votes with weight 5.5

    expect(controller.done).toBe(true);
    const result = controller.result();
    expect(result.answer).toBe("b"); // b 5.5 beats a 5 (the second warmup trace cannot vote)
    expect(result.tokensUsed).toBe(3 + 3 + 3 + 2);
    expect(result.tracesUsed).toBe(4);
    expect(result.stopped).toEqual(["2"]);
    expect(result.consensus).toBeCloseTo(5.5 / 10.5, 12);
    expect(result.stopReason).toBe("budget");
    expect(result.traces.map((t) => [t.traceId, t.end, t.voted])).toEqual([
      ["0", "complete", true],
      ["1", "complete", false],
      ["2", "stopped", false],
      ["3", "complete", true],
    ]);
  });

  test("consensus tau ends sampling once V(best)/sum V >= tau", () => {
    const controller = new OnlineController({ ...base, tau: 0.95, budget: 10 });
    run(controller, "a", [5, 5]);
    run(controller, "a", [5, 5]);
    expect(controller.canStartTrace()).toBe(false);
    expect(controller.done).toBe(true);
    expect(controller.result()).toMatchObject({
      stopReason: "consensus",
      tracesUsed: 2,
      consensus: 1,
    });
  });

  test("tau >= 1 disables the consensus stop, even at beta = 1", () => {
    const controller = new OnlineController({ ...base, tau: 1, budget: 5 });
    while (controller.canStartTrace()) run(controller, "a", [5, 5]);
    expect(controller.result()).toMatchObject({
      stopReason: "budget",
      tracesUsed: 5,
      consensus: 1,
    });
  });

  test("later traces wait for the warmup to finish; misuse is an error", () => {
    const controller = new OnlineController(base);
    const first = controller.startTrace();
    const second = controller.startTrace();
    expect(controller.canStartTrace()).toBe(false);
    expect(() => controller.startTrace()).toThrow(/canStartTrace/);
    expect(first.warmup && second.warmup).toBe(true);
    for (const handle of [first, second] as TraceHandle[]) {
      handle.monitor.pushConfidence(5);
      controller.finishTrace(handle, "a");
    }
    expect(() => controller.finishTrace(first, "a")).toThrow(/not in flight/);
    expect(controller.canStartTrace()).toBe(true);
    const later = controller.startTrace("x");
    expect(later.warmup).toBe(false);
    expect(later.monitor.threshold).toBe(controller.threshold);
  });

  test("several online traces can be in flight at once (batched generation)", () => {
    const controller = new OnlineController({ ...base, budget: 5 });
    run(controller, "a", [5, 5]);
    run(controller, "a", [4, 4]);
    const batch = [controller.startTrace(), controller.startTrace(), controller.startTrace()];
    expect(controller.canStartTrace()).toBe(false); // budget of 5 started
    expect(controller.done).toBe(false);
    for (const handle of batch) controller.finishTrace(handle, "b");
    expect(controller.done).toBe(true);
  });

  test("a budget below the warmup caps the warmup", () => {
    const controller = new OnlineController({ ...base, warmup: 5, budget: 3 });
    run(controller, "a", [5, 5]);
    run(controller, "a", [3, 3]);
    expect(controller.threshold).toBeNull();
    run(controller, "b", [1, 1]);
    expect(controller.threshold).not.toBeNull();
    expect(controller.done).toBe(true);
    expect(controller.result().tracesUsed).toBe(3);
  });

  test("empty warmup traces give no threshold: nothing stops and every answer votes", () => {
    const controller = new OnlineController(base);
    run(controller, "a", []);
    run(controller, "a", []);
    expect(controller.threshold).toBeNull();
    run(controller, "b", [0.1, 0.1, 0.1]);
    run(controller, "b", [0.2, 0.2]);
    const result = controller.result();
    expect(result.stopped).toEqual([]);
    expect(result.answer).toBe("b");
    expect(result.tokensUsed).toBe(5);
  });

  test("a cancelled trace counts its tokens but does not vote", () => {
    const controller = new OnlineController({ ...base, budget: 3 });
    run(controller, "a", [5, 5]);
    run(controller, "a", [5, 5]);
    const handle = controller.startTrace();
    handle.monitor.pushConfidence(9);
    controller.finishTrace(handle, "b", true);
    const result = controller.result();
    expect(result.tokensUsed).toBe(5);
    expect(result.traces[2]).toMatchObject({ end: "cancelled", voted: false });
    expect(result.answer).toBe("a");
  });

  test("a trace shorter than the window is never stopped but votes only if it clears s", () => {
    const controller = new OnlineController({ ...base, window: 4, tail: 4, budget: 4 });
    run(controller, "a", [5, 5, 5, 5]); // lowest 5
    run(controller, "a", [5, 5]); // short warmup: one group 5
    expect(controller.threshold).toBe(5);
    const short = run(controller, "b", [1, 1]); // mean 1 < s, but shorter than the window
    expect(short.monitor.stopped).toBe(false);
    run(controller, null, [6, 6, 6, 6]); // no answer: no vote
    const result = controller.result();
    expect(result.traces.map((t) => t.voted)).toEqual([true, true, false, false]);
    expect(result.answer).toBe("a");
  });

  test("DeepConf-low stops more traces than DeepConf-high on the same traces", () => {
    const traces = [
      [5, 5, 5],
      [4, 4, 4],
      [3, 3, 3],
      [2, 2, 2],
      [4.5, 4.5, 4.5],
      [3.5, 3.5, 3.5],
      [2.5, 2.5, 2.5],
    ];
    const stops = (eta: number) => {
      const controller = new OnlineController({ ...base, warmup: 4, eta, budget: traces.length });
      for (const c of traces) run(controller, "a", c);
      return controller.result().stopped.length;
    };
    expect(stops(10)).toBe(3); // s = 4.7: every later trace stops
    expect(stops(90)).toBe(0); // s = 2.3: none does
  });

  test("rejects invalid options", () => {
    expect(() => new OnlineController({ ...base, warmup: 0 })).toThrow(/warmup/);
    expect(() => new OnlineController({ ...base, budget: 0 })).toThrow(/budget/);
    expect(() => new OnlineController({ ...base, eta: 0 })).toThrow(/eta/);
    expect(() => new OnlineController({ ...base, tau: 0 })).toThrow(/tau/);
  });
});

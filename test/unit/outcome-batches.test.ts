import { describe, expect, it } from "vitest";
import { MAX_BATCH, OutcomeBatches, STALE_SEND_MS, type TimedReport } from "../../src/circuits/outcome-batches";
import type { CallOutcome } from "../../src/resilience/breaker";

const entry = (outcome: CallOutcome, at: number, probe = false): TimedReport => ({ report: { outcome, latencyMs: 1, probe }, at });

/** A sender whose calls the test finishes by hand, so it decides what is "in flight". */
function sender() {
  const sent: TimedReport[][] = [];
  const finish: (() => void)[] = [];
  const send = (batch: TimedReport[]) => {
    sent.push(batch);
    return new Promise<void>((done) => finish.push(done));
  };
  /** Lets the oldest call in flight come back, then lets the sender's loop go on. */
  const back = async () => {
    finish.shift()?.();
    await new Promise((done) => setTimeout(done, 0));
  };
  return { sent, send, back };
}

describe("outcome batches", () => {
  it("sends the first report at once and the successes that arrive meanwhile together, in order", async () => {
    const batches = new OutcomeBatches();
    const { sent, send, back } = sender();
    const sending = batches.add("storage", entry("success", 1), send);
    expect(sending).toBeInstanceOf(Promise);
    expect(batches.add("storage", entry("success", 2), send)).toBeUndefined();
    expect(batches.add("storage", entry("success", 3), send)).toBeUndefined();
    expect(sent.map((batch) => batch.map((e) => e.at))).toEqual([[1]]);
    await back();
    expect(sent.map((batch) => batch.map((e) => e.at))).toEqual([[1], [2, 3]]);
    await back();
    await sending;
    expect(batches.waiting("storage")).toBe(0);
    // Nobody is sending now: the next report goes at once again.
    expect(batches.add("storage", entry("success", 4), send)).toBeInstanceOf(Promise);
  });

  it("sends a failure at once, with the successes queued before it", async () => {
    const batches = new OutcomeBatches();
    const { sent, send } = sender();
    batches.add("storage", entry("success", 1), send);
    batches.add("storage", entry("success", 2), send);
    expect(batches.add("storage", entry("failure", 3), send)).toBeInstanceOf(Promise);
    expect(sent.map((batch) => batch.map((e) => [e.at, e.report.outcome]))).toEqual([[[1, "success"]], [[2, "success"], [3, "failure"]]]);
    // A probe's success decides the breaker too: it does not wait either.
    batches.add("storage", entry("success", 4, true), send);
    expect(sent).toHaveLength(3);
  });

  it("keeps each object's reports apart", async () => {
    const batches = new OutcomeBatches();
    const { sent, send } = sender();
    batches.add("storage", entry("success", 1), send);
    expect(batches.add("processor", entry("success", 2), send)).toBeInstanceOf(Promise);
    expect(sent).toHaveLength(2);
  });

  it("sends a full queue without waiting for the batch in flight", () => {
    const batches = new OutcomeBatches();
    const { sent, send } = sender();
    batches.add("storage", entry("success", 0), send);
    for (let i = 1; i < MAX_BATCH; i++) expect(batches.add("storage", entry("success", i), send)).toBeUndefined();
    expect(batches.add("storage", entry("success", MAX_BATCH), send)).toBeInstanceOf(Promise);
    expect(sent.map((batch) => batch.length)).toEqual([1, MAX_BATCH]);
  });

  it("takes over from a sender that never came back", () => {
    let now = 0;
    const batches = new OutcomeBatches(() => now);
    const { sent, send } = sender();
    batches.add("storage", entry("success", 0), send);
    now = STALE_SEND_MS - 1;
    expect(batches.add("storage", entry("success", 1), send)).toBeUndefined();
    now = STALE_SEND_MS;
    expect(batches.add("storage", entry("success", 2), send)).toBeInstanceOf(Promise);
    expect(sent.map((batch) => batch.map((e) => e.at))).toEqual([[0], [1, 2]]);
  });
});

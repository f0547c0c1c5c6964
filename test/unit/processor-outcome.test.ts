import { describe, expect, it } from "vitest";
import { processorOutcome } from "../../src/jobs/attempt";
import { ProcessingError } from "../../src/processing/processor";

describe("the processor breaker counts infrastructure, not models", () => {
  it.each([
    ["a refusal of the model", new ProcessingError("invalid_step", "not STEP")],
    ["a retryable failure while reading the model", new ProcessingError("internal", "Reading the model failed unexpectedly", true)],
    ["a model that is too slow", new ProcessingError("processing_timeout", "took too long")],
  ])("counts %s as the model's (a client error)", (_name, error) => {
    expect(processorOutcome(error)).toBe("client-error");
  });

  it("counts a processor that cannot start, and a crash that escaped it unclassified, as failures", () => {
    const error = new ProcessingError("internal", "The model reader could not start", true, { fault: "infrastructure" });
    expect(processorOutcome(error)).toBe("failure");
    expect(processorOutcome(new TypeError("wasm trap"))).toBe("failure");
  });
});

import { describe, expect, it } from "vitest";
import { INLINE_BACKOFF } from "../../src/resilience/backoff";
import { retryWithBackoff } from "../../src/resilience/retry";

class Transient extends Error {}

function harness() {
  const slept: number[] = [];
  return {
    slept,
    options: {
      attempts: 3,
      backoff: INLINE_BACKOFF,
      retryable: (error: unknown) => error instanceof Transient,
      random: () => 0.5,
      sleep: async (ms: number) => {
        slept.push(ms);
      },
    },
  };
}

describe("retry with backoff", () => {
  it("returns the first success without waiting", async () => {
    const { slept, options } = harness();
    await expect(retryWithBackoff(async () => "ok", options)).resolves.toBe("ok");
    expect(slept).toEqual([]);
  });

  it("retries a transient failure after a jittered wait and succeeds", async () => {
    const { slept, options } = harness();
    let calls = 0;
    const result = await retryWithBackoff(async (attempt) => {
      calls++;
      if (attempt < 2) throw new Transient("slow down");
      return attempt;
    }, options);
    expect(result).toBe(2);
    expect(calls).toBe(3);
    expect(slept).toEqual([50, 100]);
  });

  it("gives up after three attempts with the last error", async () => {
    const { slept, options } = harness();
    const retried: number[] = [];
    let calls = 0;
    const failing = retryWithBackoff(
      async () => {
        calls++;
        throw new Transient(`failure ${calls}`);
      },
      { ...options, onRetry: (_error, attempt) => retried.push(attempt) },
    );
    await expect(failing).rejects.toThrow("failure 3");
    expect(calls).toBe(3);
    expect(slept).toHaveLength(2);
    expect(retried).toEqual([1, 2]);
  });

  it("does not retry a permanent failure", async () => {
    const { slept, options } = harness();
    let calls = 0;
    const failing = retryWithBackoff(async () => {
      calls++;
      throw new Error("access denied");
    }, options);
    await expect(failing).rejects.toThrow("access denied");
    expect(calls).toBe(1);
    expect(slept).toEqual([]);
  });

  it("asks the retry budget before every retry and gives up at once when it says no", async () => {
    const { slept, options } = harness();
    const asked: string[] = [];
    let calls = 0;
    const failing = retryWithBackoff(
      async () => {
        calls++;
        throw new Transient(`failure ${calls}`);
      },
      {
        ...options,
        mayRetry: async (error) => {
          asked.push(error instanceof Error ? error.message : String(error));
          return asked.length < 2;
        },
      },
    );
    await expect(failing).rejects.toThrow("failure 2");
    expect(calls).toBe(2);
    expect(asked).toEqual(["failure 1", "failure 2"]);
    expect(slept).toHaveLength(1);
  });

  it("does not ask the budget about a failure that is not retryable", async () => {
    const { options } = harness();
    let asked = 0;
    const failing = retryWithBackoff(
      async () => {
        throw new Error("access denied");
      },
      {
        ...options,
        mayRetry: async () => {
          asked++;
          return true;
        },
      },
    );
    await expect(failing).rejects.toThrow("access denied");
    expect(asked).toBe(0);
  });
});

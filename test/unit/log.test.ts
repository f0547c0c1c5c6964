import { afterEach, describe, expect, it, vi } from "vitest";
import { createLogger, logDependencyCall } from "../../src/lib/log";

afterEach(() => {
  vi.restoreAllMocks();
});

describe("createLogger", () => {
  it("writes one JSON line per entry with the bound fields", () => {
    const lines: string[] = [];
    vi.spyOn(console, "log").mockImplementation((line: string) => lines.push(line));
    createLogger("info", { requestId: "r1" }).child({ jobId: "j1" }).info({ msg: "hello", component: "test" });
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] ?? "")).toMatchObject({ level: "info", msg: "hello", requestId: "r1", jobId: "j1", component: "test" });
  });

  it("drops entries below the configured level and routes warnings and errors to their streams", () => {
    const log = vi.spyOn(console, "log").mockImplementation(() => undefined);
    const warn = vi.spyOn(console, "warn").mockImplementation(() => undefined);
    const error = vi.spyOn(console, "error").mockImplementation(() => undefined);
    const logger = createLogger("warn");
    logger.debug({ msg: "no" });
    logger.info({ msg: "no" });
    logger.warn({ msg: "yes" });
    logger.error({ msg: "yes" });
    expect(log).not.toHaveBeenCalled();
    expect(warn).toHaveBeenCalledTimes(1);
    expect(error).toHaveBeenCalledTimes(1);
  });
});

describe("logDependencyCall", () => {
  it("logs duration and outcome of a successful call", async () => {
    const lines: string[] = [];
    vi.spyOn(console, "log").mockImplementation((line: string) => lines.push(line));
    expect(await logDependencyCall(createLogger("info"), "storage", "put", async () => 42)).toBe(42);
    expect(JSON.parse(lines[0] ?? "")).toMatchObject({ msg: "put", component: "storage", outcome: "ok", durationMs: expect.any(Number) });
  });

  it("logs and rethrows a failure unchanged", async () => {
    const lines: string[] = [];
    vi.spyOn(console, "warn").mockImplementation((line: string) => lines.push(line));
    const failure = new Error("boom");
    await expect(logDependencyCall(createLogger("debug"), "storage", "put", () => Promise.reject(failure))).rejects.toBe(failure);
    expect(JSON.parse(lines[0] ?? "")).toMatchObject({ outcome: "error", error: "boom" });
  });
});

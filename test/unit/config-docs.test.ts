import { describe, expect, it } from "vitest";
import readme from "../../README.md?raw";
import { ConfigError, SETTING_NAMES, loadConfig } from "../../src/config";

const secret = "s".repeat(40);

describe("configuration", () => {
  it("documents every setting the service reads in the README's configuration table", () => {
    const section = readme.slice(readme.indexOf("## Configuration"), readme.indexOf("## Environments"));
    const documented = new Set([...section.matchAll(/`([A-Z][A-Z0-9_]+)`/g)].map((match) => match[1]));
    expect(SETTING_NAMES.filter((name) => !documented.has(name))).toEqual([]);
  });

  it("lists the settings of every area's settings group", () => {
    // Each area declares its group in a settings file; a group left out of the list would be
    // parsed but neither documented nor checked here.
    const modules = import.meta.glob<Record<string, unknown>>(["../../src/*/settings.ts", "../../src/*/*-settings.ts"], { eager: true });
    const declared = Object.values(modules)
      .flatMap((module) => Object.values(module))
      .filter((value): value is { shape: Record<string, unknown>; build: unknown } => typeof value === "object" && value !== null && "shape" in value && "build" in value)
      .flatMap((group) => Object.keys(group.shape));
    expect(declared.length).toBeGreaterThan(40);
    expect(declared.filter((name) => !(SETTING_NAMES as readonly string[]).includes(name))).toEqual([]);
  });

  it("validates an environment once and answers the same configuration after", () => {
    const env = { ENVIRONMENT: "test", AUTH_JWT_SECRET: secret };
    const first = loadConfig(env);
    expect(loadConfig(env)).toBe(first);
    expect(loadConfig({ ...env })).not.toBe(first);
  });

  it("names every bad setting of every area in one error", () => {
    const error = (() => {
      try {
        loadConfig({ ENVIRONMENT: "test", AUTH_JWT_SECRET: "short", S3_PART_SIZE: "1", PROCESSOR: "nope", BREAKER_RESET_MS: "-1", SQS_QUEUE_URL: "https://q" });
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.map((problem) => problem.split(":")[0]);
    expect(problems).toEqual(expect.arrayContaining(["AUTH_JWT_SECRET", "S3_PART_SIZE", "PROCESSOR", "BREAKER_RESET_MS", "AWS_REGION"]));
    // The AWS credentials belong to S3 and SQS alike, yet each missing one is named once.
    expect(problems.filter((name) => name === "AWS_REGION")).toHaveLength(1);
  });
});

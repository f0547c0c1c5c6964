import { describe, expect, it } from "vitest";
import { ConfigError, type ConfigSource, loadConfig } from "../../src/config";

const secret = "x".repeat(40);
const base = { AUTH_JWT_SECRET: secret };
const s3 = {
  ...base,
  ENVIRONMENT: "production",
  S3_BUCKET: "ifc-models",
  AWS_REGION: "eu-central-1",
  AWS_ACCESS_KEY_ID: "AKIAEXAMPLE",
  AWS_SECRET_ACCESS_KEY: "very-secret-value",
};

function problemsOf(env: ConfigSource): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error("expected a ConfigError");
}

describe("S3 settings", () => {
  it("makes s3 the production default, with 8 MiB parts, 4 in flight, AES256 and unsigned payloads", () => {
    const config = loadConfig(s3);
    expect(config.storageDriver).toBe("s3");
    expect(config.s3).toEqual({
      bucket: "ifc-models",
      endpoint: undefined,
      forcePathStyle: false,
      region: "eu-central-1",
      accessKeyId: "AKIAEXAMPLE",
      secretAccessKey: "very-secret-value",
      partSize: 8 * 1024 * 1024,
      uploadConcurrency: 4,
      encryption: { mode: "AES256" },
      signPayload: false,
    });
  });

  it("reads an endpoint, path style, part size, concurrency and KMS encryption", () => {
    const config = loadConfig({
      ...s3,
      S3_ENDPOINT: "http://127.0.0.1:9000",
      S3_FORCE_PATH_STYLE: "true",
      S3_PART_SIZE: String(16 * 1024 * 1024),
      S3_UPLOAD_CONCURRENCY: "8",
      S3_SSE: "aws:kms",
      S3_SSE_KMS_KEY_ID: "arn:aws:kms:eu-central-1:111122223333:key/abc",
      S3_SIGN_PAYLOAD: "true",
    });
    expect(config.s3).toMatchObject({
      signPayload: true,
      endpoint: "http://127.0.0.1:9000",
      forcePathStyle: true,
      partSize: 16 * 1024 * 1024,
      uploadConcurrency: 8,
      encryption: { mode: "aws:kms", kmsKeyId: "arn:aws:kms:eu-central-1:111122223333:key/abc" },
    });
  });

  it("names every missing S3 setting at once when STORAGE_DRIVER=s3", () => {
    const problems = problemsOf({ ...base, ENVIRONMENT: "development", STORAGE_DRIVER: "s3", S3_SSE: "aws:kms" });
    expect(problems).toEqual([
      "S3_BUCKET: is required when STORAGE_DRIVER=s3",
      "AWS_REGION: is required when STORAGE_DRIVER=s3",
      "AWS_ACCESS_KEY_ID: is required when STORAGE_DRIVER=s3",
      "AWS_SECRET_ACCESS_KEY: is required when STORAGE_DRIVER=s3",
      "S3_SSE_KMS_KEY_ID: is required when S3_SSE=aws:kms",
    ]);
  });

  it("reports bad formats together with missing settings, without echoing secrets", () => {
    const problems = problemsOf({
      ...s3,
      AUTH_JWT_SECRET: "short",
      AWS_ACCESS_KEY_ID: "",
      S3_BUCKET: "Not_A_Bucket",
      S3_ENDPOINT: "ftp://example.com",
      S3_PART_SIZE: "1048576",
      S3_UPLOAD_CONCURRENCY: "0",
      S3_SSE: "none",
      S3_FORCE_PATH_STYLE: "yes",
      S3_SIGN_PAYLOAD: "1",
    });
    const named = problems.map((problem) => problem.split(":")[0]);
    expect(named).toEqual(
      expect.arrayContaining([
        "AUTH_JWT_SECRET",
        "S3_BUCKET",
        "S3_ENDPOINT",
        "S3_PART_SIZE",
        "S3_UPLOAD_CONCURRENCY",
        "S3_SSE",
        "S3_FORCE_PATH_STYLE",
        "S3_SIGN_PAYLOAD",
        "AWS_ACCESS_KEY_ID",
      ]),
    );
    expect(problems.find((p) => p.startsWith("S3_PART_SIZE"))).toContain("5 MiB");
    expect(problems.join("; ")).not.toContain("very-secret-value");
  });

  it("ignores S3 requirements for other drivers", () => {
    const config = loadConfig({ ...base, ENVIRONMENT: "test" });
    expect(config.storageDriver).toBe("memory");
    expect(config.s3).toBeUndefined();
  });

  it("still demands the R2 binding for the r2 driver", () => {
    expect(problemsOf({ ...base, ENVIRONMENT: "development" })).toEqual([
      "MODELS: R2 binding MODELS is required when STORAGE_DRIVER=r2",
    ]);
  });

  it("shares 80 MiB of upload buffers per isolate by default, and at least one S3 part", () => {
    expect(loadConfig(s3).uploadBufferBytes).toBe(80 * 1024 * 1024);
    expect(loadConfig({ ...s3, UPLOAD_BUFFER_BYTES: String(16 * 1024 * 1024) }).uploadBufferBytes).toBe(16 * 1024 * 1024);
    expect(problemsOf({ ...s3, UPLOAD_BUFFER_BYTES: String(1024 * 1024) })).toEqual(
      expect.arrayContaining([expect.stringMatching(/^UPLOAD_BUFFER_BYTES: must be at least 11534336 bytes/)]),
    );
    expect(problemsOf({ ...s3, S3_PART_SIZE: String(32 * 1024 * 1024), UPLOAD_BUFFER_BYTES: String(16 * 1024 * 1024) })).toEqual([
      "UPLOAD_BUFFER_BYTES: must be at least S3_PART_SIZE + 3 MiB (36700160 bytes), or every large upload is refused",
    ]);
  });
});

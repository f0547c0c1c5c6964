import type { SettingValues } from "../../src/config";
import { env } from "cloudflare:workers";
import { createLogger } from "../../src/lib/log";
import { S3Storage, type S3Runtime, type S3Settings } from "../../src/storage/s3";
import { type FaultRule, type RecordedRequest, type UploadsReport, s3Settings } from "./s3-peer-info";

export const MiB = 1024 * 1024;
export const peer = env.S3_TEST_PEER;

/** Settings that switch the Worker under test to S3 (through the verifying proxy) for one call. */
export function s3Overrides(extra: SettingValues = {}): SettingValues {
  return {
    ...s3Settings(peer),
    // S3's smallest part, so a ~12 MB model is three parts.
    S3_PART_SIZE: String(5 * MiB),
    // The test environment caps uploads at 8 MiB; these tests need room for three parts.
    MAX_UPLOAD_BYTES: String(64 * MiB),
    ...extra,
  };
}

/** The adapter itself, pointed at the test S3, for reading back and for adapter-level tests. */
export function testStorage(settings: Partial<S3Settings> = {}, runtime: Partial<S3Runtime> = {}): S3Storage {
  return new S3Storage(
    {
      bucket: peer.bucket,
      endpoint: peer.endpoint,
      forcePathStyle: true,
      region: peer.region,
      accessKeyId: peer.accessKeyId,
      secretAccessKey: peer.secretAccessKey,
      partSize: 5 * MiB,
      uploadConcurrency: 4,
      encryption: { mode: "AES256" },
      signPayload: false,
      ...settings,
    },
    { log: createLogger("error"), ...runtime },
  );
}

async function control<T>(path: string, init?: RequestInit): Promise<T> {
  const response = await fetch(`${peer.endpoint}/__proxy/${path}`, init);
  if (!response.ok) throw new Error(`proxy control ${path}: ${response.status}`);
  return (await response.json()) as T;
}

/** Every request the proxy saw for keys under `prefix`, oldest first. */
export const proxyRequests = (prefix: string): Promise<RecordedRequest[]> =>
  control(`requests?prefix=${encodeURIComponent(prefix)}`);

/** Multipart uploads under `prefix` that were created and neither completed nor aborted. */
export const pendingUploads = (prefix: string): Promise<UploadsReport> => control(`uploads?prefix=${encodeURIComponent(prefix)}`);

export const injectFault = (rule: FaultRule): Promise<unknown> =>
  control("faults", { method: "POST", body: JSON.stringify(rule), headers: { "content-type": "application/json" } });

// Stream fixtures live in streams.ts; re-exported for the tests that import them from here.
export { chunked, failingBody, readAll } from "./streams";

/** The S3 operations of recorded requests, in the order they reached the proxy. */
export const operations = (requests: RecordedRequest[]): RecordedRequest["operation"][] => requests.map((r) => r.operation);

/** The largest number of requests of `operation` that were open at the same moment. */
export function maxOverlap(requests: RecordedRequest[], operation: RecordedRequest["operation"]): number {
  const events = requests
    .filter((r) => r.operation === operation)
    .flatMap((r) => [
      { at: r.startedAt, delta: 1 },
      { at: r.endedAt, delta: -1 },
    ])
    // At equal times, count an end before a start: back-to-back requests do not overlap.
    .sort((a, b) => a.at - b.at || a.delta - b.delta);
  let open = 0;
  let most = 0;
  for (const event of events) {
    open += event.delta;
    most = Math.max(most, open);
  }
  return most;
}

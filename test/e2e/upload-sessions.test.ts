// Upload sessions through `npm run dev`, with a real client: parts into local R2 through the
// service's part endpoint, and into S3 (s3rver behind the SigV4 proxy) through presigned URLs.
// A part's connection is cut mid-way; the client resumes from the session's listing, completes,
// and the job summarises the model: the reference summary times the number of copies.
// SESSION_E2E_MB sets the model's size: 20 MB in `npm test`; `SESSION_E2E_MB=1000` is the 1 GB
// proof recorded in the README (timeouts grow with the size).
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generatedModel } from "../setup/generated-model.ts";
import { type S3Peer, startS3Peer } from "../setup/s3-peer.ts";
import { type DevServer, devToken, startDevServer } from "../support/node/dev-server.ts";
import { SessionClient, copiesIn, fileSize } from "../support/node/session-client.ts";
import { copiesMismatches, reference, type SummaryShape } from "../support/node/summary-copies.ts";
import { s3Settings } from "../support/s3-peer-info.ts";

const megabytes = Number(process.env.SESSION_E2E_MB ?? 20);
const MiB = 1024 * 1024;
/** Two minutes, plus a second per 5 MB beyond 20 MB: a 1 GB run on a busy 2-core machine. */
const storyTimeoutMs = 120_000 + Math.max(0, megabytes - 20) * 200;

async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/** The whole story: parts with one cut mid-way, a resume from the listing, completion, the job. */
async function uploadWithResume(client: SessionClient, model: string): Promise<{ jobId: string; uploadId: string }> {
  const size = fileSize(model);
  const session = await client.create("tower.ifc", size, await sha256File(model));
  expect(session.partSize).toBe(8 * MiB);
  expect(session.partCount).toBe(Math.ceil(size / (8 * MiB)));
  const all = Array.from({ length: session.partCount }, (_, i) => i + 1);
  await client.sendParts(session, model, all.filter((n) => n !== 2), 2);
  await client.cutPart(session, model, 2, 3 * MiB);

  // The client starts over knowing nothing but the session: the listing says what is missing.
  const listed = await client.list(session);
  expect(listed.status).toBe("open");
  const have = new Set(listed.parts.map((p) => p.partNumber));
  expect(have.has(2)).toBe(false);
  await client.sendParts(session, model, all.filter((n) => !have.has(n)), 2);
  const resumed = await client.list(session);
  expect(resumed.parts.map((p) => p.partNumber)).toEqual(all);
  expect(resumed.parts.reduce((sum, p) => sum + p.size, 0)).toBe(size);

  const accepted = await client.complete(session, resumed.parts.map(({ partNumber, etag }) => ({ partNumber, etag })));
  expect(accepted.upload).toEqual({ uploadId: session.uploadId });
  return { jobId: accepted.jobId, uploadId: session.uploadId };
}

async function expectSummarised(client: SessionClient, jobId: string, model: string): Promise<void> {
  const job = await client.waitForJob(jobId, storyTimeoutMs);
  expect(job, JSON.stringify(job).slice(0, 2000)).toMatchObject({ status: "succeeded", file: { name: "tower.ifc", size: fileSize(model), sha256: await sha256File(model) } });
  // The job view keeps a bounded copy (at most 1000 storeys, for one); the whole summary is summary.json.
  const problems = copiesMismatches((await client.summary(jobId)) as unknown as SummaryShape, reference("duplex.ifc"), copiesIn(model));
  expect(problems).toEqual([]);
}

describe("upload sessions through npm run dev, local R2 (service part endpoint)", () => {
  let server: DevServer;
  let client: SessionClient;
  let model: string;

  beforeAll(async () => {
    model = generatedModel(megabytes);
    server = await startDevServer({ vars: { PROCESSING_START_DELAY_MS: "0" } });
    client = new SessionClient(server.url, await devToken(["e2e-sessions"]), "e2e-sessions");
  });

  afterAll(async () => {
    await server?.stop();
  });

  it("resumes after a cut part, completes, and the job summarises every copy", { timeout: 3 * storyTimeoutMs }, async () => {
    const session = await client.create("probe.ifc", 9 * MiB);
    const target = await client.target(session, 1);
    expect(target.url).toBe(`${server.url}${session.links.self}/parts/1`);
    expect(target.headers.authorization).toBe(`Bearer ${client.token}`);

    const { jobId, uploadId } = await uploadWithResume(client, model);
    await expectSummarised(client, jobId, model);
    const listing = (await (await fetch(`${server.url}/v1/projects/e2e-sessions/uploads`, { headers: { authorization: `Bearer ${client.token}` } })).json()) as {
      uploads: { uploadId: string; status: string; jobId?: string }[];
    };
    expect(listing.uploads[0]).toMatchObject({ uploadId, status: "completed", jobId });
  });
});

describe("upload sessions through npm run dev, S3 (presigned part URLs)", () => {
  let peer: S3Peer;
  let server: DevServer;
  let client: SessionClient;
  let model: string;

  beforeAll(async () => {
    model = generatedModel(megabytes);
    peer = await startS3Peer({ bucket: "ifc-models-sessions" });
    server = await startDevServer({ vars: { ...s3Settings(peer), PROCESSING_START_DELAY_MS: "0" } });
    client = new SessionClient(server.url, await devToken(["e2e-s3-sessions"]), "e2e-s3-sessions");
  });

  afterAll(async () => {
    await server?.stop();
    await peer?.stop();
  });

  it("sends the bytes straight to the bucket, resumes after a cut part, and the job summarises every copy", { timeout: 3 * storyTimeoutMs }, async () => {
    const { jobId } = await uploadWithResume(client, model);
    const requests = peer.proxy.requests().filter((r) => r.key.endsWith("/tower.ifc"));
    const parts = requests.filter((r) => r.operation === "UploadPart" && r.status === 200);
    expect(parts.length).toBe(Math.ceil(fileSize(model) / (8 * MiB)));
    expect(parts.every((r) => r.presigned && r.signature === "valid")).toBe(true);
    expect(requests.filter((r) => !r.presigned).every((r) => r.signature === "valid")).toBe(true);
    expect(requests.map((r) => r.operation)).toContain("ListParts");
    expect(peer.proxy.pendingUploads()).toEqual([]);
    await expectSummarised(client, jobId, model);
  });
});

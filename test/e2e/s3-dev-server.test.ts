// `npm run dev` with STORAGE_DRIVER=s3 against s3rver behind the SigV4-verifying proxy, and a
// real client that drops its connection mid-upload (a disconnect cannot be staged inside workerd).
import { statSync, createReadStream } from "node:fs";
import { request } from "node:http";
import { Readable } from "node:stream";
import { AwsClient } from "aws4fetch";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generatedModel } from "../setup/generated-model.ts";
import { type S3Peer, startS3Peer } from "../setup/s3-peer.ts";
import { type RecordedRequest, s3Settings } from "../support/s3-peer-info.ts";
import { type DevServer, devToken, startDevServer } from "../support/node/dev-server.ts";

const MiB = 1024 * 1024;
const project = "e2e-s3";

async function until<T>(what: string, probe: () => T | undefined, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((done) => setTimeout(done, 100));
  }
}

describe("npm run dev with STORAGE_DRIVER=s3", () => {
  let peer: S3Peer;
  let server: DevServer;
  let token: string;
  let model: string;
  const requestsFor = (name: string): RecordedRequest[] => peer.proxy.requests().filter((r) => r.key.endsWith(`/${name}`));

  beforeAll(async () => {
    model = generatedModel(12);
    peer = await startS3Peer({ bucket: "ifc-models-e2e" });
    server = await startDevServer({
      vars: { ...s3Settings(peer), S3_PART_SIZE: String(5 * MiB) },
    });
    token = await devToken([project]);
  });

  afterAll(async () => {
    await server?.stop();
    await peer?.stop();
  });

  it("stores an upload as a signed, encrypted multipart upload", async () => {
    const size = statSync(model).size;
    const response = await fetch(`${server.url}/v1/projects/${project}/models?filename=whole.ifc`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-length": String(size) },
      body: Readable.toWeb(createReadStream(model)) as ReadableStream<Uint8Array>,
      duplex: "half",
    } as RequestInit & { duplex: "half" });
    expect(response.status, server.output()).toBe(202);
    const requests = requestsFor("whole.ifc");
    expect(requests.filter((r) => r.operation === "UploadPart")).toHaveLength(3);
    expect(requests.every((r) => r.signature === "valid")).toBe(true);
    expect(requests.find((r) => r.operation === "CreateMultipartUpload")?.sse).toBe("AES256");
    expect(peer.proxy.pendingUploads()).toEqual([]);
  });

  it("aborts the multipart upload and keeps nothing when the client disconnects mid-body", async () => {
    const size = statSync(model).size;
    const { port } = new URL(server.url);
    const req = request({
      host: "127.0.0.1",
      port,
      method: "POST",
      path: `/v1/projects/${project}/models?filename=gone.ifc`,
      headers: { authorization: `Bearer ${token}`, "content-length": String(size), "content-type": "application/octet-stream" },
    });
    req.on("error", () => undefined); // the socket is destroyed on purpose
    req.on("response", (res) => res.resume());
    // Send two parts' worth and a bit, then hold the connection until S3 has the parts.
    const stream = createReadStream(model, { start: 0, end: 11 * MiB - 1 });
    for await (const chunk of stream) {
      if (!req.write(chunk)) await new Promise((done) => req.once("drain", done));
    }
    await until("two parts to reach S3", () =>
      requestsFor("gone.ifc").filter((r) => r.operation === "UploadPart" && r.status === 200).length >= 2 ? true : undefined,
    );
    req.destroy();

    await until("the multipart upload to be aborted", () =>
      requestsFor("gone.ifc").some((r) => r.operation === "AbortMultipartUpload" && r.status === 204) ? true : undefined,
    );
    const requests = requestsFor("gone.ifc");
    expect(requests.map((r) => r.operation)).not.toContain("CompleteMultipartUpload");
    expect(peer.proxy.pendingUploads()).toEqual([]);

    const key = requests[0]?.key ?? "";
    const client = new AwsClient({ accessKeyId: peer.accessKeyId, secretAccessKey: peer.secretAccessKey, region: peer.region, service: "s3" });
    const head = await client.fetch(`${peer.endpoint}/${peer.bucket}/${key}`, { method: "HEAD" });
    expect(head.status).toBe(404);
  });
});

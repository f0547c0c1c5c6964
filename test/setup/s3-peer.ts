import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import S3rver from "s3rver";
import type { S3PeerInfo } from "../support/s3-peer-info.ts";
import { type SigV4Proxy, startSigV4Proxy } from "./sigv4-proxy.ts";

export type { S3PeerInfo };

export interface S3Peer extends S3PeerInfo {
  proxy: SigV4Proxy;
  stop(): Promise<void>;
}

/** s3rver's built-in account; it knows no other key. */
const ACCESS_KEY_ID = "S3RVER";
const SECRET_ACCESS_KEY = "S3RVER";

/** Starts s3rver on 127.0.0.1 (data in a fresh temp folder) and the SigV4 proxy in front of it. */
export async function startS3Peer(options: { bucket?: string } = {}): Promise<S3Peer> {
  const bucket = options.bucket ?? "ifc-models-test";
  const directory = mkdtempSync(join(tmpdir(), "s3rver-"));
  const s3rver = new S3rver({
    address: "127.0.0.1",
    port: 0,
    // S3RVER_LOGS=1 shows s3rver's own log, to tell its failures from ours.
    silent: process.env.S3RVER_LOGS === undefined,
    directory,
    vhostBuckets: false,
    configureBuckets: [{ name: bucket }],
  });
  const address = await s3rver.run();
  const s3rverUrl = `http://127.0.0.1:${address.port}`;
  const proxy = await startSigV4Proxy({
    upstream: s3rverUrl,
    credentials: { [ACCESS_KEY_ID]: SECRET_ACCESS_KEY },
    s3rverDirectory: directory,
  });
  return {
    endpoint: proxy.url,
    s3rverUrl,
    bucket,
    region: "us-east-1",
    accessKeyId: ACCESS_KEY_ID,
    secretAccessKey: SECRET_ACCESS_KEY,
    proxy,
    stop: async () => {
      await proxy.close();
      await s3rver.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}

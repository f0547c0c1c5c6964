import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, renameSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { fixturesDir, startFixtureServer } from "./fixture-server";
import { type S3PeerInfo, startS3Peer } from "./s3-peer";

declare module "vitest" {
  export interface ProvidedContext {
    fixturesUrl: string;
    s3: S3PeerInfo;
  }
}

/** URL path (on the fixture server) of a ~12 MB model: three parts at S3's smallest part size. */
export const LARGE_MODEL_PATH = "generated/duplex-12mb.ifc";

/** A valid model of about `megabytes` MB, made once per machine by the shared generator. */
function generatedModel(megabytes: number): string {
  const dir = join(tmpdir(), "ifc-ingest-test-models");
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `duplex-${megabytes}mb.ifc`);
  if (!existsSync(path)) {
    const generator = join(fixturesDir, "..", "..", "tools", "gen-large-ifc.mjs");
    const partial = `${path}.${process.pid}.tmp`;
    execFileSync(process.execPath, [generator, join(fixturesDir, "duplex.ifc"), String(megabytes), partial], { stdio: "ignore" });
    renameSync(partial, path);
  }
  return path;
}

/** Runs in Node before the workerd tests: starts the local peers and hands out their addresses. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const fixtures = await startFixtureServer({ [LARGE_MODEL_PATH]: generatedModel(12) });
  const s3 = await startS3Peer();
  project.provide("fixturesUrl", fixtures.url);
  project.provide("s3", {
    endpoint: s3.endpoint,
    s3rverUrl: s3.s3rverUrl,
    bucket: s3.bucket,
    region: s3.region,
    accessKeyId: s3.accessKeyId,
    secretAccessKey: s3.secretAccessKey,
  });
  return async () => {
    await s3.stop();
    await new Promise<void>((done) => fixtures.server.close(() => done()));
  };
}

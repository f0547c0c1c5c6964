import type { TestProject } from "vitest/node";
import { FAUXQS_CREDENTIALS, FAUXQS_REGION, startFauxqsPeer } from "./fauxqs-peer";
import { startFixtureServer } from "./fixture-server";
import { startWebhookReceiver } from "./webhook-receiver";
import { generatedModel } from "./generated-model";
import { type S3PeerInfo, startS3Peer } from "./s3-peer";
import { startFaultProxy } from "./fault-proxy";
import { startObjectStore } from "./object-store";

declare module "vitest" {
  export interface ProvidedContext {
    fixturesUrl: string;
    fauxqsUrl: string;
    fauxqsControlUrl: string;
    fauxqsRegion: string;
    fauxqsAccessKeyId: string;
    fauxqsSecretAccessKey: string;
    webhookReceiverUrl: string;
    s3: S3PeerInfo;
    /** A real S3-API store (s3rver), reached directly. */
    objectStoreUrl: string;
    /** The same store through the fault proxy; faults are switched at faultControlUrl. */
    faultProxyUrl: string;
    faultControlUrl: string;
  }
}

/** URL path (on the fixture server) of a ~12 MB model: three parts at S3's smallest part size. */
export const LARGE_MODEL_PATH = "generated/duplex-12mb.ifc";

/** Runs in Node before the workerd tests: starts the local peers and hands out their addresses. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const fixtures = await startFixtureServer({ [LARGE_MODEL_PATH]: generatedModel(12) });
  const fauxqs = await startFauxqsPeer();
  const receiver = await startWebhookReceiver();
  const s3 = await startS3Peer();
  project.provide("fixturesUrl", fixtures.url);
  const store = await startObjectStore();
  const proxy = await startFaultProxy(store.url);
  project.provide("objectStoreUrl", store.url);
  project.provide("faultProxyUrl", proxy.url);
  project.provide("faultControlUrl", proxy.controlUrl);
  project.provide("fauxqsUrl", fauxqs.url);
  project.provide("fauxqsControlUrl", fauxqs.controlUrl);
  project.provide("fauxqsRegion", FAUXQS_REGION);
  project.provide("fauxqsAccessKeyId", FAUXQS_CREDENTIALS.accessKeyId);
  project.provide("fauxqsSecretAccessKey", FAUXQS_CREDENTIALS.secretAccessKey);
  project.provide("webhookReceiverUrl", receiver.url);
  project.provide("s3", {
    endpoint: s3.endpoint,
    s3rverUrl: s3.s3rverUrl,
    bucket: s3.bucket,
    region: s3.region,
    accessKeyId: s3.accessKeyId,
    secretAccessKey: s3.secretAccessKey,
  });
  return async () => {
    await proxy.close();
    await store.close();
    await s3.stop();
    await receiver.stop();
    await fauxqs.stop();
    await new Promise<void>((done) => fixtures.server.close(() => done()));
  };
}

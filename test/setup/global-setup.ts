import type { TestProject } from "vitest/node";
import { FAUXQS_CREDENTIALS, FAUXQS_REGION, startFauxqsPeer } from "./fauxqs-peer";
import { startFixtureServer } from "./fixture-server";
import { startWebhookReceiver } from "./webhook-receiver";

declare module "vitest" {
  export interface ProvidedContext {
    fixturesUrl: string;
    fauxqsUrl: string;
    fauxqsControlUrl: string;
    fauxqsRegion: string;
    fauxqsAccessKeyId: string;
    fauxqsSecretAccessKey: string;
    webhookReceiverUrl: string;
  }
}

/** Runs in Node before the workerd tests: starts the local peers and hands out their addresses. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const fixtures = await startFixtureServer();
  const fauxqs = await startFauxqsPeer();
  const receiver = await startWebhookReceiver();
  project.provide("fixturesUrl", fixtures.url);
  project.provide("fauxqsUrl", fauxqs.url);
  project.provide("fauxqsControlUrl", fauxqs.controlUrl);
  project.provide("fauxqsRegion", FAUXQS_REGION);
  project.provide("fauxqsAccessKeyId", FAUXQS_CREDENTIALS.accessKeyId);
  project.provide("fauxqsSecretAccessKey", FAUXQS_CREDENTIALS.secretAccessKey);
  project.provide("webhookReceiverUrl", receiver.url);
  return async () => {
    await receiver.stop();
    await fauxqs.stop();
    await new Promise<void>((done) => fixtures.server.close(() => done()));
  };
}

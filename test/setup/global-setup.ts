import type { TestProject } from "vitest/node";
import { startFaultProxy } from "./fault-proxy";
import { startFixtureServer } from "./fixture-server";
import { startObjectStore } from "./object-store";

declare module "vitest" {
  export interface ProvidedContext {
    fixturesUrl: string;
    /** A real S3-API store (s3rver), reached directly. */
    objectStoreUrl: string;
    /** The same store through the fault proxy; faults are switched at faultControlUrl. */
    faultProxyUrl: string;
    faultControlUrl: string;
  }
}

/** Runs in Node before the workerd tests: starts the local peers and hands out their addresses. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const fixtures = await startFixtureServer();
  project.provide("fixturesUrl", fixtures.url);
  const store = await startObjectStore();
  const proxy = await startFaultProxy(store.url);
  project.provide("objectStoreUrl", store.url);
  project.provide("faultProxyUrl", proxy.url);
  project.provide("faultControlUrl", proxy.controlUrl);
  return async () => {
    await proxy.close();
    await store.close();
    await new Promise<void>((done) => fixtures.server.close(() => done()));
  };
}

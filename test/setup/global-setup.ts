import type { TestProject } from "vitest/node";
import { startFixtureServer } from "./fixture-server";

declare module "vitest" {
  export interface ProvidedContext {
    fixturesUrl: string;
  }
}

/** Runs in Node before the workerd tests: starts the local peers and hands out their addresses. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const fixtures = await startFixtureServer();
  project.provide("fixturesUrl", fixtures.url);
  return async () => {
    await new Promise<void>((done) => fixtures.server.close(() => done()));
  };
}

/**
 * TEST ONLY Worker entry: the production app, except that a Worker given TEST_STORAGE_URL
 * stores through the test-only S3 adapter at that address (the fault proxy). Bundled by
 * wrangler for the two-isolate test in test/e2e; never deployed.
 */
import { createApp } from "../../../src/app";
import type { Env } from "../../../src/env";
import { selectStorage } from "../../../src/storage/select-storage";
import { TestOnlyS3Storage } from "../test-only-s3-storage";

import { createLogger } from "../../../src/http/log";

export { CircuitObject } from "../../../src/objects/circuit";
export { JobObject } from "../../../src/objects/job";
export { ProjectObject } from "../../../src/objects/project";

type TestEnv = Env & { TEST_STORAGE_URL?: string; TEST_BUCKET?: string };

export default createApp({
  storage: (config, env: TestEnv) =>
    env.TEST_STORAGE_URL ? new TestOnlyS3Storage(env.TEST_STORAGE_URL, env.TEST_BUCKET ?? "ifc-models-test") : selectStorage(config, env, { log: createLogger(config.logLevel) }),
});

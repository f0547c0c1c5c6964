import type { Config } from "../config";
import type { Logger } from "../lib/log";
import type { RetryKind } from "../resilience/retry-budget";
import { isolateBufferBudget } from "./buffer-budget";
import { isolateMemoryStorage } from "./memory";
import type { ObjectStorage } from "./object-storage";
import { R2_PART_SIZE, R2Storage } from "./r2";
import { S3Storage } from "./s3";

export interface StorageRuntime {
  log: Logger;
  /** The request's waitUntil, so cleanup of a failed upload outlives a client that went away. */
  waitUntil?: (promise: Promise<unknown>) => void;
  /** The storage retry budget, asked before inline retries (adapters that retry inline use it). */
  spendRetry?: (kind: RetryKind) => Promise<boolean>;
}

/** The one place that turns validated config into a storage adapter. */
export function selectStorage(config: Config, env: Env, runtime: StorageRuntime): ObjectStorage {
  switch (config.storageDriver) {
    case "memory":
      return isolateMemoryStorage;
    case "r2":
      if (!env.MODELS) throw new Error("config validation lets r2 through only with a MODELS binding");
      return new R2Storage(env.MODELS, R2_PART_SIZE, isolateBufferBudget(config.uploadBufferBytes));
    case "s3":
      if (!config.s3) throw new Error("config validation lets s3 through only with S3 settings");
      return new S3Storage(config.s3, { ...runtime, bufferBudget: isolateBufferBudget(config.uploadBufferBytes) });
  }
}

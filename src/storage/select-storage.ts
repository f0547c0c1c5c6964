import type { Config } from "../config";
import type { Env } from "../env";
import { isolateMemoryStorage } from "./memory";
import type { ObjectStorage } from "./object-storage";
import { R2Storage } from "./r2";

/** The one place that turns validated config into a storage adapter. */
export function selectStorage(config: Config, env: Env): ObjectStorage {
  switch (config.storageDriver) {
    case "memory":
      return isolateMemoryStorage;
    case "r2":
      if (!env.MODELS) throw new Error("config validation lets r2 through only with a MODELS binding");
      return new R2Storage(env.MODELS);
  }
}

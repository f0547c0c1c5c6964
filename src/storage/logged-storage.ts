import { type Logger, logDependencyCall } from "../lib/log";
import type { ObjectStorage } from "./object-storage";

/** Wraps any adapter so that every storage call leaves one log line with its duration and outcome. */
export function loggedStorage(storage: ObjectStorage, log: Logger): ObjectStorage {
  const component = `storage:${storage.driver}`;
  return {
    driver: storage.driver,
    put: (key, body, options) => logDependencyCall(log, component, "put", () => storage.put(key, body, options)),
    get: (key, range) => logDependencyCall(log, component, "get", () => storage.get(key, range)),
    head: (key) => logDependencyCall(log, component, "head", () => storage.head(key)),
    delete: (key) => logDependencyCall(log, component, "delete", () => storage.delete(key)),
    ping: () => logDependencyCall(log, component, "ping", () => storage.ping()),
  };
}

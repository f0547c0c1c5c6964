import type { Config } from "../config";
import type { JobDirectory } from "../jobs/client";
import type { CircuitClient } from "../circuits/client";
import type { ObjectStorage } from "../storage/object-storage";
import type { Logger } from "../lib/log";

export interface Caller {
  subject: string;
  projects: string[];
}

export interface AppVariables {
  requestId: string;
  config: Config;
  log: Logger;
  storage: ObjectStorage;
  jobs: JobDirectory;
  /** Circuit breakers of the dependencies, through this isolate's cache. */
  circuits: CircuitClient;
  caller: Caller;
}

export interface AppEnv {
  Bindings: Env;
  Variables: AppVariables;
}

export function mayAccessProject(caller: Caller, projectId: string): boolean {
  return caller.projects.includes("*") || caller.projects.includes(projectId);
}

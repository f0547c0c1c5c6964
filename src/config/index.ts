import { z } from "zod";
import { type ResilienceConfig, circuitSettings } from "../circuits/settings";
import { type AuthConfig, authSettings } from "../http/auth-settings";
import { type IngestConfig, ingestSettings } from "../ingest/settings";
import { type JobConfig, jobSettings } from "../jobs/settings";
import type { LogLevel } from "../lib/log";
import type { NotificationEvent } from "../notify/events";
import { type GroupResult, type SettingsContext, blankToUndefined, defineSettings, parseGroup } from "../lib/settings";
import { type NotifyConfig, notifySettings } from "../notify/settings";
import { type ProcessingConfig, processingSettings } from "../processing/settings";
import { type StorageConfig, storageSettings } from "../storage/settings";
import { type UploadSessionConfig, uploadSessionSettings } from "../uploads/settings";

export type { NotifyConfig } from "../notify/settings";
export type { ProcessingConfig } from "../processing/settings";
export type { ResilienceConfig } from "../circuits/settings";
export type { StorageDriver } from "../storage/settings";

const environmentSchema = z.enum(["production", "development", "test"]);
export type Environment = z.infer<typeof environmentSchema>;

const serviceSettings = defineSettings({
  shape: { LOG_LEVEL: z.enum(["debug", "info", "warn", "error"]).default("info") },
  build: (value): { logLevel: LogLevel } => ({ logLevel: value.LOG_LEVEL }),
});

/** The whole validated configuration: each area's part, composed from the groups that own them. */
export type Config = { environment: Environment } & { logLevel: LogLevel } & AuthConfig &
  IngestConfig &
  StorageConfig &
  UploadSessionConfig & { notify: NotifyConfig } & { processing: ProcessingConfig } & JobConfig & { resilience: ResilienceConfig };

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration: ${problems.join("; ")}`);
    this.name = "ConfigError";
  }
}

/** Every setting's name, as the groups declare them. */
export type SettingName =
  | "ENVIRONMENT"
  | keyof typeof serviceSettings.shape
  | keyof typeof authSettings.shape
  | keyof typeof ingestSettings.shape
  | keyof typeof storageSettings.shape
  | keyof typeof uploadSessionSettings.shape
  | keyof typeof notifySettings.shape
  | keyof typeof processingSettings.shape
  | keyof typeof jobSettings.shape
  | keyof typeof circuitSettings.shape;

const GROUPS = [serviceSettings, authSettings, ingestSettings, storageSettings, uploadSessionSettings, notifySettings, processingSettings, jobSettings, circuitSettings];

/** Every setting the service reads, each once (groups may share one, such as the AWS credentials). */
export const SETTING_NAMES: readonly SettingName[] = [
  ...new Set(["ENVIRONMENT", ...GROUPS.flatMap((group) => Object.keys(group.shape))]),
] as SettingName[];

/** Settings given as strings, as wrangler passes vars and secrets (tests override some). */
export type SettingValues = Partial<Record<SettingName, string>>;

/** Anything with the settings as properties: the Worker's env, or a test's copy of it. */
export type ConfigSource = object;

/** An env object is immutable for the life of an isolate, so it is validated once. */
const parsed = new WeakMap<object, Config>();

/** Validates every setting at once, so one message names everything that is wrong. */
export function loadConfig(env: ConfigSource): Config {
  const known = parsed.get(env);
  if (known) return known;
  const config = parseConfig(env);
  parsed.set(env, config);
  return config;
}

function parseConfig(env: ConfigSource): Config {
  const environment = environmentSchema.safeParse(blankToUndefined(Reflect.get(env, "ENVIRONMENT")) ?? "production");
  const context: SettingsContext = {
    environment: environment.success ? environment.data : "production",
    bindings: { models: Reflect.get(env, "MODELS") !== undefined, queue: Reflect.get(env, "EVENTS_QUEUE") !== undefined },
  };
  const service = parseGroup(serviceSettings, env, context);
  const auth = parseGroup(authSettings, env, context);
  const ingest = parseGroup(ingestSettings, env, context);
  const storage = parseGroup(storageSettings, env, context);
  const uploads = parseGroup(uploadSessionSettings, env, context);
  const notify = parseGroup(notifySettings, env, context);
  const processing = parseGroup(processingSettings, env, context);
  const jobs = parseGroup(jobSettings, env, context);
  const circuits = parseGroup(circuitSettings, env, context);
  const results: GroupResult<unknown>[] = [service, auth, ingest, storage, uploads, notify, processing, jobs, circuits];
  // Groups that share a setting (AWS credentials) report its problem once.
  const problems = new Set(environment.success ? [] : environment.error.issues.map((issue) => `ENVIRONMENT: ${issue.message}`));
  for (const result of results) if (!result.ok) for (const problem of result.problems) problems.add(problem);
  if (!environment.success || !service.ok || !auth.ok || !ingest.ok || !storage.ok || !uploads.ok || !notify.ok || !processing.ok || !jobs.ok || !circuits.ok) {
    throw new ConfigError([...problems]);
  }
  return {
    environment: context.environment,
    ...service.value,
    ...auth.value,
    ...ingest.value,
    ...storage.value,
    ...uploads.value,
    ...notify.value,
    ...processing.value,
    ...jobs.value,
    ...circuits.value,
  };
}

/** The optional EVENTS_QUEUE binding: declared per deployment, so not in the generated Env. */
export function eventsQueue(env: object): Queue<NotificationEvent> | undefined {
  const queue: unknown = Reflect.get(env, "EVENTS_QUEUE");
  return typeof queue === "object" && queue !== null && "send" in queue ? (queue as Queue<NotificationEvent>) : undefined;
}

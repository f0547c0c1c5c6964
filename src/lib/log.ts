export type LogLevel = "debug" | "info" | "warn" | "error";

const rank: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface LogFields {
  msg: string;
  requestId?: string;
  projectId?: string;
  jobId?: string;
  component?: string;
  durationMs?: number;
  outcome?: "ok" | "error" | "rejected";
  [field: string]: unknown;
}

export interface Logger {
  debug(fields: LogFields): void;
  info(fields: LogFields): void;
  warn(fields: LogFields): void;
  error(fields: LogFields): void;
  child(bound: Partial<LogFields>): Logger;
}

/** One JSON object per line, so Workers Logs and `wrangler tail` can filter on fields. */
export function createLogger(minLevel: LogLevel, bound: Partial<LogFields> = {}): Logger {
  const emit = (level: LogLevel, fields: LogFields): void => {
    if (rank[level] < rank[minLevel]) return;
    const line = JSON.stringify({ level, time: new Date().toISOString(), ...bound, ...fields });
    if (level === "error") console.error(line);
    else if (level === "warn") console.warn(line);
    else console.log(line);
  };
  return {
    debug: (fields) => emit("debug", fields),
    info: (fields) => emit("info", fields),
    warn: (fields) => emit("warn", fields),
    error: (fields) => emit("error", fields),
    child: (more) => createLogger(minLevel, { ...bound, ...more }),
  };
}

/** Times one dependency call and logs it with its outcome, rethrowing failures unchanged. */
export async function logDependencyCall<T>(
  log: Logger,
  component: string,
  operation: string,
  call: () => Promise<T>,
): Promise<T> {
  const started = Date.now();
  try {
    const result = await call();
    log.info({ msg: operation, component, durationMs: Date.now() - started, outcome: "ok" });
    return result;
  } catch (error) {
    log.warn({
      msg: operation,
      component,
      durationMs: Date.now() - started,
      outcome: "error",
      error: error instanceof Error ? error.message : String(error),
    });
    throw error;
  }
}

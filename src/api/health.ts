import { z } from "@hono/zod-openapi";

const BreakerState = z.enum(["closed", "open", "half-open"]);

const Degraded = z.object({ key: z.string(), state: BreakerState, retryAfterMs: z.number().nonnegative() });

export const LivenessSchema = z.object({ status: z.literal("ok") }).openapi("Liveness");

export const ReadinessSchema = z
  .object({
    status: z.enum(["ok", "degraded", "unavailable"]),
    environment: z.string().optional(),
    config: z.literal("ok"),
    storage: z.object({
      driver: z.string(),
      status: z.enum(["ok", "unreachable", "circuit-open"]),
      latencyMs: z.number().nonnegative().optional(),
    }),
    // Operators see which breakers are not closed; project tokens only how many.
    circuits: z.union([
      z.object({ degraded: z.array(Degraded) }),
      z.object({ open: z.int().nonnegative(), halfOpen: z.int().nonnegative() }),
      z.object({ status: z.literal("unknown") }),
    ]),
  })
  .openapi("Readiness");

const Latency = z.object({ samples: z.int(), p50: z.number().nullable(), p95: z.number().nullable(), p99: z.number().nullable() });

export const CircuitSnapshotSchema = z
  .object({
    key: z.string().openapi({ example: "storage" }),
    state: BreakerState,
    consecutiveFailures: z.int(),
    openedAt: z.string().nullable(),
    changedAt: z.string().nullable(),
    retryAfterMs: z.number(),
    counters: z.record(z.string(), z.number()),
    latencyMs: Latency,
    retryBudget: z.object({ tokens: z.number(), maxTokens: z.number() }),
  })
  .openapi("CircuitSnapshot");

export const CircuitsReportSchema = z
  .object({
    at: z.string(),
    settings: z.object({ failureThreshold: z.int(), resetMs: z.int(), retryBudgetTokens: z.number(), storageTimeoutMs: z.int() }),
    circuits: z.array(CircuitSnapshotSchema),
  })
  .openapi("CircuitsReport");

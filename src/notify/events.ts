/** The notification events the service emits, and the pure builder of their envelopes. */

import { hexToBytes, toHex } from "../lib/hex";

export const EVENT_TYPES = ["model.uploaded", "model.processed", "model.failed"] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export interface EventFile {
  name: string;
  size: number;
  sha256: string | null;
  schema: string;
}

/** The part of a job record an event needs; the job DO's record satisfies it structurally. */
export interface EventJob {
  jobId: string;
  projectId: string;
  file: EventFile;
  requestId: string;
}

/** The part of a model summary an event needs: only sizes are sent, never the summary itself. */
export interface EventSummaryInput {
  materials: readonly unknown[];
  storeys: readonly unknown[];
  counts: Readonly<Record<string, number>>;
}

export interface EventError {
  code: string;
  message: string;
}

export interface EventSummary {
  materials: number;
  storeys: number;
  /** Entity instances in the model: the sum of `counts`. */
  elements: number;
}

export interface NotificationEvent {
  /** Stable per job and type, so receivers can drop duplicates of retried deliveries. */
  id: string;
  type: EventType;
  createdAt: string;
  projectId: string;
  jobId: string;
  file: EventFile;
  summary: EventSummary | null;
  error?: EventError;
  requestId: string;
}

export interface EventDetails {
  /** When the job reached the state the event announces; kept by the caller so a rebuilt event is identical. */
  createdAt: Date | string;
  summary?: EventSummaryInput | null;
  error?: EventError | null;
}

/** A fixed UUID namespace for this service's event ids (RFC 9562 name-based, SHA-1). */
const EVENT_ID_NAMESPACE = "6f1c1c5e-3b7a-4a8e-9a53-0d9b3c1f2e47";

/**
 * Builds an event envelope. Deterministic: the same job, type and details give the same
 * event, which lets the job DO rebuild events on every alarm instead of storing them.
 */
export async function buildEvent(type: EventType, job: EventJob, details: EventDetails): Promise<NotificationEvent> {
  const createdAt = typeof details.createdAt === "string" ? details.createdAt : details.createdAt.toISOString();
  const event: NotificationEvent = {
    id: await eventId(job.jobId, type),
    type,
    createdAt,
    projectId: job.projectId,
    jobId: job.jobId,
    file: { name: job.file.name, size: job.file.size, sha256: job.file.sha256, schema: job.file.schema },
    summary: details.summary ? summarize(details.summary) : null,
    requestId: job.requestId,
  };
  if (details.error) event.error = { code: details.error.code, message: details.error.message };
  return event;
}

export function summarize(summary: EventSummaryInput): EventSummary {
  let elements = 0;
  for (const count of Object.values(summary.counts)) elements += count;
  return { materials: summary.materials.length, storeys: summary.storeys.length, elements };
}

/** UUIDv5 of `${jobId}:${type}`: the same job and type always give the same id. */
export async function eventId(jobId: string, type: EventType): Promise<string> {
  const namespace = hexToBytes(EVENT_ID_NAMESPACE.replaceAll("-", ""));
  const name = new TextEncoder().encode(`${jobId}:${type}`);
  const input = new Uint8Array(namespace.length + name.length);
  input.set(namespace, 0);
  input.set(name, namespace.length);
  const hash = new Uint8Array(await crypto.subtle.digest("SHA-1", input)).slice(0, 16);
  hash[6] = ((hash[6] ?? 0) & 0x0f) | 0x50;
  hash[8] = ((hash[8] ?? 0) & 0x3f) | 0x80;
  const hex = toHex(hash);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

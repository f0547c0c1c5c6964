import { createApp } from "./app";

export { CircuitObject } from "./circuits/object";
export { IdempotencyKeyObject } from "./idempotency/object";
export { JobObject } from "./jobs/object";
export { ProjectObject } from "./projects/object";
export { UploadSessionObject } from "./uploads/session-object";

export default createApp();

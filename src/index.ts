import { createApp } from "./app";

export { CircuitObject } from "./objects/circuit";
export { JobObject } from "./objects/job";
export { ProjectObject } from "./objects/project";
export { UploadSessionObject } from "./uploads/session-object";

export default createApp();

import { createApp } from "./app";

export { CircuitObject } from "./circuits/object";
export { JobObject } from "./jobs/object";
export { ProjectObject } from "./projects/object";

export default createApp();

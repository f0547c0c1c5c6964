import { createApp } from "./app";

export { JobObject } from "./objects/job";
export { ProjectObject } from "./objects/project";

export default createApp();

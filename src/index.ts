import { createApp } from "./app";

export { JobObject } from "./objects/job";

export default createApp();

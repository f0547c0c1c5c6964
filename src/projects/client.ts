import type { JobList, JobListItem } from "../api/jobs";
import type { JobListQuery } from "./job-index";
import type { EventType } from "../notify/events";
import type { WebhookSubscriptions } from "../notify/webhook";
import type { CreatedWebhookSubscription, WebhookSubscriptionView } from "./object";

/** What the webhook routes need from the project objects. */
export interface ProjectDirectory {
  putWebhook(projectId: string, url: string, events: EventType[]): Promise<CreatedWebhookSubscription>;
  getWebhook(projectId: string): Promise<WebhookSubscriptionView | null>;
  deleteWebhook(projectId: string): Promise<boolean>;
  listJobs(projectId: string, query: JobListQuery): Promise<JobList>;
}

/** What the job objects need from the project objects: the listing index. */
export interface ProjectJobIndex {
  indexJob(item: JobListItem): Promise<void>;
  forgetJob(projectId: string, jobId: string): Promise<boolean>;
}

const stubFor = (namespace: Env["PROJECTS"], projectId: string) => namespace.get(namespace.idFromName(projectId));

export function durableProjectDirectory(namespace: Env["PROJECTS"], now: () => Date = () => new Date()): ProjectDirectory {
  return {
    putWebhook: (projectId, url, events) => stubFor(namespace, projectId).putWebhook(projectId, url, events, now().toISOString()),
    getWebhook: (projectId) => stubFor(namespace, projectId).getWebhook(projectId),
    deleteWebhook: (projectId) => stubFor(namespace, projectId).deleteWebhook(),
    listJobs: (projectId, query) => stubFor(namespace, projectId).listJobs(query),
  };
}

export function durableProjectJobIndex(namespace: Env["PROJECTS"]): ProjectJobIndex {
  return {
    indexJob: (item) => stubFor(namespace, item.projectId).indexJob(item),
    forgetJob: (projectId, jobId) => stubFor(namespace, projectId).forgetJob(jobId),
  };
}

/** The webhook notifier's view of the same objects. */
export function durableWebhookSubscriptions(namespace: Env["PROJECTS"], now: () => Date = () => new Date()): WebhookSubscriptions {
  return {
    target: (projectId) => stubFor(namespace, projectId).webhookTarget(),
    disable: (projectId, subscriptionId, reason) => stubFor(namespace, projectId).disableWebhook(subscriptionId, reason, now().toISOString()),
  };
}

import type { SettingValues } from "../../src/config";
import { env } from "cloudflare:workers";
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { JobObject } from "../../src/jobs/object";
import { createQueue, receiveAll, receivedBy, scriptReceiver, sqsEnv, subscribeWebhook, uniqueId } from "../support/notify";
import { getJob, jobStub } from "../support/processing";
import { fixture, upload } from "../support/worker";

/** Uploads with the project's jobs configured beforehand (the job id is not known before). */
async function uploadWithJobEnv(projectId: string, jobEnv: SettingValues): Promise<string> {
  JobObject.overrideProjectForTests(projectId, { env: jobEnv });
  const response = await upload(projectId, await fixture("test.ifc"), { filename: "test.ifc" });
  expect(response.status).toBe(202);
  return ((await response.json()) as { jobId: string }).jobId;
}

/**
 * Overrides live in the object's memory, and other suites may evict objects between calls:
 * set them again right before each alarm.
 */
async function runAlarm(jobId: string, jobEnv: SettingValues = {}): Promise<boolean> {
  await runInDurableObject(jobStub(jobId), (object: JobObject) => JobObject.overrideForTests(object, { env: jobEnv }));
  return runDurableObjectAlarm(jobStub(jobId));
}

/** Runs the job's alarms, as the runtime would when each falls due, until nothing is pending. */
async function runAlarmsUntilSettled(projectId: string, jobId: string, jobEnv: SettingValues = {}): Promise<void> {
  for (let round = 0; round < 8; round++) {
    const job = (await getJob(projectId, jobId)).body;
    const open = job.status === "queued" || job.status === "processing";
    if (!open && job.notifications.every((n) => n.status !== "pending")) return;
    await runAlarm(jobId, jobEnv);
  }
}

describe("the job object notifies downstream systems", () => {
  it("sends model.uploaded then model.processed to SQS, driven by its alarms", async () => {
    const projectId = uniqueId("p");
    const queueUrl = await createQueue(uniqueId("jobs"));
    const jobEnv = sqsEnv(queueUrl);
    const jobId = await uploadWithJobEnv(projectId, jobEnv);

    expect(await runAlarm(jobId, jobEnv)).toBe(true);
    expect((await getJob(projectId, jobId)).body.status).toBe("succeeded");
    await runAlarmsUntilSettled(projectId, jobId, jobEnv);

    const sqsStates = (await getJob(projectId, jobId)).body.notifications.filter((n) => n.channel === "sqs");
    const messages = await receiveAll(queueUrl);
    expect(messages.length, JSON.stringify(sqsStates)).toBe(2);
    expect(messages.map((m) => (JSON.parse(m.body) as { type: string }).type)).toEqual(["model.uploaded", "model.processed"]);
    for (const message of messages) {
      expect(message.messageAttributes).toMatchObject({
        jobId: { stringValue: jobId },
        projectId: { stringValue: projectId },
        type: { stringValue: expect.stringMatching(/^model\./) },
        requestId: { stringValue: expect.any(String) },
      });
    }
    const processed = JSON.parse(messages[1]?.body ?? "{}") as { summary: unknown; file: { name: string } };
    expect(processed.file.name).toBe("test.ifc");
    expect(processed.summary).toEqual({ materials: expect.any(Number), storeys: expect.any(Number), elements: expect.any(Number) });
    const job = (await getJob(projectId, jobId)).body;
    expect(job.notifications.filter((n) => n.channel === "sqs")).toEqual([
      { channel: "sqs", event: "model.uploaded", status: "delivered", attempts: 1 },
      { channel: "sqs", event: "model.processed", status: "delivered", attempts: 1 },
    ]);
  });

  it("retries a webhook receiver that fails twice and delivers on the third attempt, signed", async () => {
    const projectId = uniqueId("p");
    const hook = uniqueId("hook");
    const url = `${env.WEBHOOK_RECEIVER_URL}/hooks/${hook}`;
    const secret = await subscribeWebhook(projectId, url);
    await scriptReceiver(hook, { secret, responses: [{ status: 500 }, { status: 503 }, { status: 204 }] });

    const jobId = await uploadWithJobEnv(projectId, {});
    await runAlarmsUntilSettled(projectId, jobId);

    const deliveries = await receivedBy(hook);
    expect(deliveries.map((d) => d.answered)).toEqual([500, 503, 204, 204]);
    expect(deliveries.every((d) => d.verified)).toBe(true);
    const types = deliveries.map((d) => (JSON.parse(d.body) as { type: string }).type);
    expect(types).toEqual(["model.uploaded", "model.uploaded", "model.uploaded", "model.processed"]);
    expect(new Set(deliveries.slice(0, 3).map((d) => d.headers["webhook-id"])).size).toBe(1);
    const job = (await getJob(projectId, jobId)).body;
    expect(job.notifications).toEqual([
      { channel: "webhook", event: "model.uploaded", status: "delivered", attempts: 3 },
      { channel: "webhook", event: "model.processed", status: "delivered", attempts: 1 },
    ]);
  });

  it("tells downstream about a failed model with model.failed", async () => {
    const projectId = uniqueId("p");
    const queueUrl = await createQueue(uniqueId("jobs"));
    const jobEnv: SettingValues = { ...sqsEnv(queueUrl), MOCK_PROCESSOR_OUTCOME: "invalid_step" };
    const jobId = await uploadWithJobEnv(projectId, jobEnv);
    await runAlarmsUntilSettled(projectId, jobId, jobEnv);
    const bodies = (await receiveAll(queueUrl)).map((m) => JSON.parse(m.body) as { type: string; error?: { code: string } });
    expect(bodies.map((b) => b.type)).toEqual(["model.uploaded", "model.failed"]);
    expect(bodies[1]?.error?.code).toBe("invalid_step");
  });
});

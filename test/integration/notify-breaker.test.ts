import type { SettingValues } from "../../src/config";
import { env } from "cloudflare:workers";
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { JobObject, type JobTestOverrides } from "../../src/jobs/object";
import type { CircuitSnapshot } from "../../src/resilience/circuit-state";
import { webhookCircuitKey } from "../../src/resilience/keys";
import { policyWith } from "../support/policy";
import { receivedBy, scriptReceiver, sleep, subscribeWebhook, uniqueId } from "../support/notify";
import { getJob, jobStub } from "../support/processing";
import { fixture, upload } from "../support/worker";

const RESET_MS = 800;
const policy = policyWith({ breaker: { resetMs: RESET_MS } });

/**
 * Hourly gaps between scheduled attempts (54 minutes of wait with random() = 0.9), so the
 * runtime never runs a retry by itself: the test drives every alarm. Eight attempts in all,
 * so the schedule would run out if waiting for the breaker counted.
 */
const jobEnv: SettingValues = {
  BREAKER_FAILURE_THRESHOLD: "5",
  BREAKER_RESET_MS: String(RESET_MS),
  NOTIFY_SCHEDULE_MS: [1, 2, 3, 4, 5, 6, 7, 8].map((hour) => hour * 3_600_000).join(","),
};

describe("notifications behind the receiver host's breaker", () => {
  it("a job whose notification target was down for longer than the reset time is delivered afterwards", async () => {
    const projectId = uniqueId("p");
    const hook = uniqueId("hook");
    const url = `${env.WEBHOOK_RECEIVER_URL}/hooks/${hook}`;
    const key = webhookCircuitKey(projectId, url);
    // random() = 0.9: a wait for the breaker ends 0.9 s after it half-opens, which leaves the
    // test that long to run the alarm itself before the runtime does.
    const overrides: JobTestOverrides = { env: jobEnv, circuitScope: `t-${crypto.randomUUID()}/`, random: () => 0.9 };
    const circuit = env.CIRCUITS.get(env.CIRCUITS.idFromName(`${overrides.circuitScope}${key}`));
    const snapshot = (): Promise<CircuitSnapshot> => circuit.snapshot({ key, policy }, Date.now());

    const secret = await subscribeWebhook(projectId, url);
    // The receiver is down: every delivery gets 503 until it is scripted again.
    await scriptReceiver(hook, { secret, responses: [{ status: 503 }] });

    // The project's jobs are configured before the upload is accepted.
    JobObject.overrideProjectForTests(projectId, overrides);
    const accepted = await upload(projectId, await fixture("test.ifc"), { filename: "test.ifc" });
    expect(accepted.status).toBe(202);
    const { jobId } = (await accepted.json()) as { jobId: string };

    /** Overrides live in the object's memory and other suites may evict it: set them right before each alarm. */
    const runAlarm = async (): Promise<number> => {
      await runInDurableObject(jobStub(jobId), (object: JobObject) => JobObject.overrideForTests(object, overrides));
      const started = performance.now();
      expect(await runDurableObjectAlarm(jobStub(jobId))).toBe(true);
      return performance.now() - started;
    };
    const uploadedState = async () => (await getJob(projectId, jobId)).body.notifications.find((n) => n.event === "model.uploaded");
    const settledState = async (state: CircuitSnapshot["state"]): Promise<CircuitSnapshot> => {
      let seen = await snapshot();
      for (let i = 0; i < 50 && seen.state !== state; i++) {
        await sleep(20);
        seen = await snapshot();
      }
      return seen;
    };

    // Five deliveries fail; the fifth opens the breaker. (Processing takes an alarm of its own
    // when it falls due a moment before the first delivery, so alarms are run until five attempts.)
    for (let round = 0; round < 8 && ((await uploadedState())?.attempts ?? 0) < 5; round++) {
      await runAlarm();
      const state = await uploadedState();
      expect(state).toMatchObject({ status: "pending" });
      expect(await receivedBy(hook)).toHaveLength(state?.attempts ?? -1);
    }
    expect(await uploadedState()).toMatchObject({ status: "pending", attempts: 5, lastError: "receiver answered 503" });
    expect((await getJob(projectId, jobId)).body.status).toBe("succeeded");
    expect(await settledState("open")).toMatchObject({ state: "open", counters: { failures: 5, opened: 1 } });
    const openedAt = Date.now();

    // While it is open, the delivery is turned away at once: nothing reaches the receiver,
    // no attempt is used, and the alarm comes back when the breaker half-opens.
    const turnedAwayMs = await runAlarm();
    expect(await receivedBy(hook)).toHaveLength(5);
    const waiting = await uploadedState();
    expect(waiting).toMatchObject({ status: "pending", attempts: 5, lastError: `not sent: the ${key} circuit breaker is open after repeated failures` });
    const due = Date.parse(waiting?.nextAttemptAt ?? "");
    expect(due).toBeGreaterThan(openedAt);
    expect(due).toBeLessThanOrEqual(openedAt + RESET_MS + 900);
    console.log(`webhook delivery turned away by the open breaker: alarm took ${turnedAwayMs.toFixed(1)} ms`);

    // Still down after the reset time: the half-open probe fails and opens the breaker again.
    await sleep(RESET_MS + 50);
    await runAlarm();
    expect(await uploadedState()).toMatchObject({ status: "pending", attempts: 6, lastError: "receiver answered 503" });
    expect(await settledState("open")).toMatchObject({ state: "open", counters: { opened: 2 } });
    await runAlarm();
    expect(await receivedBy(hook)).toHaveLength(6);
    expect(await uploadedState()).toMatchObject({ status: "pending", attempts: 6 });

    // The receiver recovers; once the breaker half-opens again the next alarms deliver.
    await scriptReceiver(hook, { responses: [{ status: 204 }] });
    await sleep(RESET_MS + 50);
    for (let round = 0; round < 6; round++) {
      const job = (await getJob(projectId, jobId)).body;
      if (job.notifications.every((n) => n.status !== "pending")) break;
      await runAlarm();
    }

    const job = (await getJob(projectId, jobId)).body;
    expect(job.notifications).toEqual([
      { channel: "webhook", event: "model.uploaded", status: "delivered", attempts: 7 },
      { channel: "webhook", event: "model.processed", status: "delivered", attempts: 1 },
    ]);
    const deliveries = await receivedBy(hook);
    expect(deliveries.map((d) => d.answered)).toEqual([503, 503, 503, 503, 503, 503, 204, 204]);
    expect(deliveries.every((d) => d.verified)).toBe(true);
    expect(deliveries.map((d) => (JSON.parse(d.body) as { type: string }).type).slice(-2)).toEqual(["model.uploaded", "model.processed"]);
    expect(new Set(deliveries.slice(0, 7).map((d) => d.headers["webhook-id"])).size).toBe(1);
    expect(await settledState("closed")).toMatchObject({ state: "closed", counters: { opened: 2 } });
  });
});

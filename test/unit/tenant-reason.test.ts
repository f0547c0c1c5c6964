import { describe, expect, it } from "vitest";
import { retry } from "../../src/notify/notifier";
import { applyOutcome, planNotifications } from "../../src/notify/schedule";

const event = { id: "evt-1", type: "model.uploaded" as const };

describe("lastError shown to tenants", () => {
  it.each([
    "SQS answered 403 AccessDenied: User: arn:aws:iam::123456789012:user/ingest is not authorized on arn:aws:sqs:eu-central-1:123456789012:models",
    "SQS request failed: connect ECONNREFUSED https://sqs.eu-central-1.amazonaws.com/123456789012/models-queue",
    "queue send failed: binding EVENTS_QUEUE refused: account 123456789012",
  ])("keeps ARNs, account ids and infrastructure addresses out: %s", (reason) => {
    const [state] = planNotifications(event, ["sqs"], 0);
    if (!state) throw new Error("one state");
    const after = applyOutcome(state, retry(reason), 0, () => 0);
    expect(after.lastError).toBeDefined();
    expect(after.lastError).not.toMatch(/arn:|123456789012|amazonaws\.com|models-queue|ingest/);
  });

  it("keeps a short reason a tenant can act on", () => {
    const [state] = planNotifications(event, ["webhook"], 0);
    if (!state) throw new Error("one state");
    expect(applyOutcome(state, retry("receiver answered 503"), 0, () => 0).lastError).toBe("receiver answered 503");
  });
});

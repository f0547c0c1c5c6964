import { createServer } from "node:http";
import { Webhook } from "standardwebhooks";
import { port, readBody } from "./fauxqs-peer";
import type { ReceivedDelivery } from "../support/webhook-info.ts";

/** One scripted answer; once a script runs out, its last answer repeats (200 when empty). */
export interface ScriptedResponse {
  status: number;
  headers?: Record<string, string>;
  /** Holds the answer back, to exercise the sender's timeout. */
  delayMs?: number;
}

interface Endpoint {
  secret?: string;
  responses: ScriptedResponse[];
  deliveries: ReceivedDelivery[];
}

export interface WebhookReceiver {
  url: string;
  stop(): Promise<void>;
}

/**
 * A webhook receiver on 127.0.0.1, verifying every delivery with the `standardwebhooks`
 * library (a receiver's implementation, not ours). Control endpoints:
 *   PUT /_control/hooks/{name} {secret?, responses?}  script a path
 *   GET /_control/hooks/{name}                        what it received and whether it verified
 * Deliveries: POST /hooks/{name}.
 */
export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const endpoints = new Map<string, Endpoint>();
  const endpoint = (name: string): Endpoint => {
    let found = endpoints.get(name);
    if (!found) {
      found = { responses: [], deliveries: [] };
      endpoints.set(name, found);
    }
    return found;
  };

  const server = createServer((req, res) => {
    void (async () => {
      const path = new URL(req.url ?? "/", "http://receiver").pathname;
      const control = /^\/_control\/hooks\/([\w-]+)$/.exec(path);
      if (control?.[1]) {
        const target = endpoint(control[1]);
        if (req.method === "PUT") {
          const script = JSON.parse(await readBody(req)) as { secret?: string; responses?: ScriptedResponse[] };
          if (script.secret !== undefined) target.secret = script.secret;
          if (script.responses !== undefined) target.responses = script.responses;
          res.writeHead(204).end();
        } else {
          res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ deliveries: target.deliveries }));
        }
        return;
      }
      const hook = /^\/hooks\/([\w-]+)$/.exec(path);
      if (!hook?.[1] || req.method !== "POST") {
        res.writeHead(404).end();
        return;
      }
      const target = endpoint(hook[1]);
      const body = await readBody(req);
      const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(", ") : (v ?? "")]));
      let verified = false;
      let verifyError: string | undefined;
      try {
        if (target.secret === undefined) throw new Error("no secret registered for this path");
        new Webhook(target.secret).verify(body, headers);
        verified = true;
      } catch (error) {
        verifyError = error instanceof Error ? error.message : String(error);
      }
      const index = Math.min(target.deliveries.length, target.responses.length - 1);
      const answer = target.responses[index] ?? { status: 200 };
      target.deliveries.push({
        receivedAt: Date.now(),
        headers,
        body,
        verified,
        answered: answer.status,
        ...(verifyError === undefined ? {} : { verifyError }),
      });
      if (answer.delayMs !== undefined) await new Promise((done) => setTimeout(done, answer.delayMs));
      res.writeHead(answer.status, answer.headers).end();
    })().catch((error: unknown) => {
      res.writeHead(500).end(String(error));
    });
  });
  await new Promise<void>((ready) => server.listen(0, "127.0.0.1", ready));
  return {
    url: `http://127.0.0.1:${port(server)}`,
    stop: () => new Promise<void>((done) => server.close(() => done())),
  };
}

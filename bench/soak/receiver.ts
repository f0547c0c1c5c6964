// The soak's webhook receiver on 127.0.0.1: verifies each delivery's signature as a real
// subscriber would (the Standard Webhooks reference library), and counts events per type and job.
import { createServer, type Server } from "node:http";
import { Webhook } from "standardwebhooks";

export interface Receiver {
  url: string;
  /** Set once the subscription is created (its secret is shown only then). */
  secret: string;
  counts: Record<string, number>;
  /** Job ids with a verified `model.processed` delivery. */
  processed: Set<string>;
  rejected: number;
  stop(): Promise<void>;
}

export async function startReceiver(): Promise<Receiver> {
  const receiver: Receiver = {
    url: "",
    secret: "",
    counts: {},
    processed: new Set(),
    rejected: 0,
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((done) => server.close(() => done()));
    },
  };
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on("data", (chunk: Buffer) => {
      size += chunk.byteLength;
      if (size <= 1024 * 1024) chunks.push(chunk);
    });
    request.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(request.headers)) if (typeof value === "string") headers[name] = value;
      try {
        const event = new Webhook(receiver.secret).verify(body, headers) as { type: string; jobId?: string };
        receiver.counts[event.type] = (receiver.counts[event.type] ?? 0) + 1;
        if (event.type === "model.processed" && event.jobId) receiver.processed.add(event.jobId);
        response.writeHead(204).end();
      } catch {
        receiver.rejected += 1;
        response.writeHead(400).end();
      }
    });
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", () => done()));
  const address = server.address();
  receiver.url = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}/hook`;
  return receiver;
}

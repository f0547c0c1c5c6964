import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Socket } from "node:net";

/**
 * What the proxy does with each request:
 * - pass: forward to the target and stream the answer back;
 * - refuse: close the client's socket at once, answering nothing;
 * - hang: accept and never answer (until the mode changes or the proxy closes);
 * - 503: read the request and answer 503 SlowDown, as S3 does when overloaded;
 * - cut: forward, but cut both connections halfway through the request body
 *   (or, for a request without a body, halfway through the response body);
 * - random: pick one of the above per request, from `weights`, with a seeded generator.
 */
export type FaultMode = "pass" | "refuse" | "hang" | "503" | "cut";

export interface FaultSettings {
  mode: FaultMode | "random";
  weights?: Partial<Record<FaultMode, number>>;
  seed?: number;
}

export interface FaultStats {
  mode: FaultMode | "random";
  connections: number;
  requests: number;
  byMethod: Record<string, number>;
  byFault: Record<FaultMode, number>;
}

export interface FaultProxy {
  /** Send dependency traffic here. */
  url: string;
  /** Switch faults here: PUT /mode {mode, weights?, seed?}; GET /stats; POST /stats/reset. */
  controlUrl: string;
  set(settings: FaultSettings): void;
  stats(): FaultStats;
  close(): Promise<void>;
}

const emptyFaults = (): Record<FaultMode, number> => ({ pass: 0, refuse: 0, hang: 0, "503": 0, cut: 0 });
const MODES: readonly FaultMode[] = ["pass", "refuse", "hang", "503", "cut"];

/** mulberry32: small, seedable, so a failing random run can be replayed. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((ready) => server.listen(0, "127.0.0.1", ready));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("proxy has no port");
  return `http://127.0.0.1:${address.port}`;
}

/** A fault-injecting HTTP proxy in front of any HTTP peer (`target`, e.g. http://127.0.0.1:4568). */
export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const upstream = new URL(target);
  let settings: FaultSettings = { mode: "pass" };
  let random = seeded(1);
  let stats: FaultStats = { mode: "pass", connections: 0, requests: 0, byMethod: {}, byFault: emptyFaults() };
  const sockets = new Set<Socket>();
  const hung = new Set<ServerResponse>();

  const releaseHung = () => {
    for (const response of hung) response.socket?.destroy();
    hung.clear();
  };

  const pick = (): FaultMode => {
    if (settings.mode !== "random") return settings.mode;
    const weights = settings.weights ?? { pass: 1 };
    const total = MODES.reduce((sum, mode) => sum + (weights[mode] ?? 0), 0);
    let roll = random() * total;
    for (const mode of MODES) {
      roll -= weights[mode] ?? 0;
      if (roll < 0) return mode;
    }
    return "pass";
  };

  const forward = (req: IncomingMessage, res: ServerResponse, cut: boolean) => {
    const outgoing = httpRequest(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: { ...req.headers, host: upstream.host } },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        if (!cut || requestHasBody(req)) {
          answer.pipe(res);
          return;
        }
        const length = Number(answer.headers["content-length"] ?? 0);
        let sent = 0;
        answer.on("data", (chunk: Buffer) => {
          const room = Math.max(1, Math.floor(length / 2)) - sent;
          if (room <= 0) return;
          res.write(chunk.subarray(0, room));
          sent += Math.min(room, chunk.byteLength);
          if (sent >= length / 2) {
            res.socket?.destroy();
            answer.destroy();
          }
        });
        answer.on("end", () => res.socket?.destroy());
      },
    );
    outgoing.on("error", () => res.socket?.destroy());
    if (!cut || !requestHasBody(req)) {
      req.pipe(outgoing);
      return;
    }
    const length = Number(req.headers["content-length"] ?? 0);
    const half = Math.max(1, Math.floor(length / 2));
    let sent = 0;
    req.on("data", (chunk: Buffer) => {
      if (sent >= half) return;
      const take = chunk.subarray(0, half - sent);
      outgoing.write(take);
      sent += take.byteLength;
      // Unknown length: the first chunk is "half".
      if (sent >= half || length === 0) {
        req.socket.destroy();
        outgoing.destroy();
      }
    });
  };

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    stats.requests++;
    stats.byMethod[req.method ?? "?"] = (stats.byMethod[req.method ?? "?"] ?? 0) + 1;
    const fault = pick();
    stats.byFault[fault]++;
    switch (fault) {
      case "pass":
        return forward(req, res, false);
      case "cut":
        return forward(req, res, true);
      case "refuse":
        req.socket.destroy();
        return;
      case "hang":
        hung.add(res);
        res.on("close", () => hung.delete(res));
        return;
      case "503":
        req.resume();
        req.on("end", () => {
          res.writeHead(503, { "content-type": "application/xml", connection: "close" });
          res.end("<?xml version=\"1.0\"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>");
        });
        return;
    }
  };

  const proxy = createServer(handle);
  proxy.on("connection", (socket: Socket) => {
    stats.connections++;
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => undefined);
    if (settings.mode === "refuse") socket.destroy();
  });

  const set = (next: FaultSettings) => {
    if (next.mode !== "random" && !MODES.includes(next.mode)) throw new Error(`unknown fault mode ${String(next.mode)}`);
    settings = next;
    random = seeded(next.seed ?? 1);
    stats.mode = next.mode;
    releaseHung();
    // Kept-alive connections would otherwise carry requests past a newly set "refuse".
    for (const socket of sockets) if (!socket.destroyed && socket.listenerCount("data") === 0) socket.destroy();
  };

  const control = createServer((req, res) => {
    const reply = (status: number, body: unknown) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };
    let text = "";
    req.on("data", (chunk: Buffer) => (text += chunk.toString()));
    req.on("end", () => {
      try {
        if (req.method === "PUT" && req.url === "/mode") {
          set(JSON.parse(text) as FaultSettings);
          return reply(200, stats);
        }
        if (req.method === "GET" && req.url === "/stats") return reply(200, stats);
        if (req.method === "POST" && req.url === "/stats/reset") {
          stats = { mode: settings.mode, connections: 0, requests: 0, byMethod: {}, byFault: emptyFaults() };
          return reply(200, stats);
        }
        return reply(404, { error: "no such control" });
      } catch (error) {
        return reply(400, { error: String(error) });
      }
    });
  });

  const url = await listen(proxy);
  const controlUrl = await listen(control);
  return {
    url,
    controlUrl,
    set,
    stats: () => stats,
    close: async () => {
      releaseHung();
      for (const socket of sockets) socket.destroy();
      await Promise.all([
        new Promise<void>((done) => proxy.close(() => done())),
        new Promise<void>((done) => control.close(() => done())),
      ]);
    },
  };
}

function requestHasBody(req: IncomingMessage): boolean {
  return Number(req.headers["content-length"] ?? 0) > 0 || req.headers["transfer-encoding"] !== undefined;
}

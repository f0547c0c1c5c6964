// Reads the Worker isolate's JS heap after a forced GC through the V8 inspector that
// `wrangler dev --inspector-port` exposes (Chrome DevTools Protocol over a WebSocket).

interface Reply {
  id: number;
  result?: Record<string, unknown>;
  error?: { message: string };
}

export interface HeapReading {
  usedSize: number;
  totalSize: number;
}

export class IsolateInspector {
  #nextId = 1;
  readonly #pending = new Map<number, (reply: Reply) => void>();

  readonly socket: WebSocket;
  /** Enters the isolate (a request to the Worker): commands queued for it run then. */
  readonly poke: () => Promise<void>;

  private constructor(socket: WebSocket, poke: () => Promise<void>) {
    this.socket = socket;
    this.poke = poke;
    socket.addEventListener("message", (event: MessageEvent) => {
      const reply = JSON.parse(String(event.data)) as Partial<Reply>;
      if (typeof reply.id !== "number") return;
      const done = this.#pending.get(reply.id);
      this.#pending.delete(reply.id);
      done?.(reply as Reply);
    });
  }

  /** Connects to the first target that wrangler's inspector proxy lists. */
  static async connect(inspectorPort: number, poke: () => Promise<void>, timeoutMs = 30_000): Promise<IsolateInspector> {
    const base = `127.0.0.1:${inspectorPort}`;
    // wrangler's proxy turns away WebSocket upgrades without an allowed Origin.
    const origin = "http://127.0.0.1";
    const deadline = Date.now() + timeoutMs;
    let lastError: unknown;
    while (Date.now() < deadline) {
      try {
        const targets = (await (await fetch(`http://${base}/json`, { headers: { origin } })).json()) as { webSocketDebuggerUrl?: string }[];
        const url = targets.find((t) => t.webSocketDebuggerUrl)?.webSocketDebuggerUrl ?? `ws://${base}/`;
        const socket = new WebSocket(url, { headers: { Origin: origin } } as unknown as string[]);
        await new Promise<void>((open, fail) => {
          socket.addEventListener("open", () => open(), { once: true });
          socket.addEventListener("error", () => fail(new Error(`inspector WebSocket ${url} failed`)), { once: true });
        });
        return new IsolateInspector(socket, poke);
      } catch (error) {
        lastError = error;
        await new Promise((done) => setTimeout(done, 500));
      }
    }
    throw new Error(`no inspector on ${base}: ${String(lastError)}`);
  }

  /** Sends a command; pokes the isolate until it answers (at most `timeoutMs`). */
  async #send(method: string, timeoutMs: number): Promise<Record<string, unknown>> {
    const id = this.#nextId++;
    let answered = false;
    const reply = new Promise<Reply>((done) => this.#pending.set(id, done));
    void reply.then(() => (answered = true));
    this.socket.send(JSON.stringify({ id, method }));
    const deadline = Date.now() + timeoutMs;
    while (!answered && Date.now() < deadline) {
      await Promise.race([this.poke().catch(() => undefined), reply]);
      if (!answered) await Promise.race([new Promise((done) => setTimeout(done, 100)), reply]);
    }
    if (!answered) {
      this.#pending.delete(id);
      throw new Error(`${method}: no answer within ${timeoutMs} ms`);
    }
    const { result, error } = await reply;
    if (error) throw new Error(`${method}: ${error.message}`);
    return result ?? {};
  }

  /** The used JS heap right after a full garbage collection. */
  async postGcHeap(timeoutMs = 15_000): Promise<HeapReading> {
    await this.#send("HeapProfiler.collectGarbage", timeoutMs);
    const usage = await this.#send("Runtime.getHeapUsage", timeoutMs);
    return { usedSize: Number(usage.usedSize), totalSize: Number(usage.totalSize) };
  }

  close(): void {
    this.socket.close();
  }
}

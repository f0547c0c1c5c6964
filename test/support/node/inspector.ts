import { readFileSync } from "node:fs";

/**
 * JS heap of the Worker under `wrangler dev --inspector-port PORT`, read through wrangler's
 * inspector proxy (workerd takes one inspector session, which wrangler holds) with V8's
 * Runtime.getHeapUsage, sampled.
 */
export interface HeapSampler {
  /** Used heap now, in bytes. */
  used(): Promise<number>;
  /** Samples every `intervalMs` until stopped; answers the highest sample. */
  sample(intervalMs: number): { stop(): Promise<number> };
  close(): void;
}

export async function heapSampler(inspectorPort: number): Promise<HeapSampler> {
  const targets = (await (await fetch(`http://127.0.0.1:${inspectorPort}/json`)).json()) as { webSocketDebuggerUrl: string }[];
  const url = targets[0]?.webSocketDebuggerUrl;
  if (!url) throw new Error(`no inspector target on port ${inspectorPort}`);
  // The proxy accepts local origins only (it guards against DNS rebinding).
  const socket = new WebSocket(url, { headers: { Origin: `http://127.0.0.1:${inspectorPort}` } } as unknown as string[]);
  await new Promise<void>((open, fail) => {
    socket.addEventListener("open", () => open(), { once: true });
    socket.addEventListener("error", () => fail(new Error("inspector connection failed")), { once: true });
  });
  let nextId = 1;
  const pending = new Map<number, (result: { usedSize?: number }) => void>();
  socket.addEventListener("message", (event) => {
    const message = JSON.parse(String(event.data)) as { id?: number; result?: { usedSize?: number } };
    if (message.id !== undefined) pending.get(message.id)?.(message.result ?? {});
  });
  const used = async (): Promise<number> => {
    const id = nextId++;
    const result = await new Promise<{ usedSize?: number }>((done) => {
      pending.set(id, done);
      socket.send(JSON.stringify({ id, method: "Runtime.getHeapUsage" }));
    });
    pending.delete(id);
    return result.usedSize ?? 0;
  };
  return {
    used,
    sample(intervalMs) {
      let peak = 0;
      let running = true;
      const loop = (async () => {
        while (running) {
          peak = Math.max(peak, await used());
          await new Promise((done) => setTimeout(done, intervalMs));
        }
      })();
      return {
        stop: async () => {
          running = false;
          await loop;
          return peak;
        },
      };
    },
    close: () => socket.close(),
  };
}

/** CPU seconds (user + system) a process has used, from /proc. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

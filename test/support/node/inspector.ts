import { readFileSync } from "node:fs";

/**
 * JS heap of a Worker inside workerd, read over the V8 inspector workerd opens for wrangler dev
 * (the `--inspector-addr` of the workerd process): Runtime.getHeapUsage, sampled.
 */
export interface HeapSampler {
  /** Used heap now, in bytes. */
  used(): Promise<number>;
  /** Samples every `intervalMs` until stopped; answers the highest sample. */
  sample(intervalMs: number): { stop(): Promise<number> };
  close(): void;
}

export function inspectorAddress(pid: number): string | undefined {
  const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
  return cmdline.find((arg) => arg.startsWith("--inspector-addr="))?.slice("--inspector-addr=".length);
}

export async function heapSampler(pid: number, workerName: string): Promise<HeapSampler> {
  const address = inspectorAddress(pid);
  if (!address) throw new Error(`workerd ${pid} has no inspector`);
  const targets = (await (await fetch(`http://${address}/json`)).json()) as { id: string; webSocketDebuggerUrl: string }[];
  const target = targets.find((t) => t.id === `core:user:${workerName}`);
  if (!target) throw new Error(`no inspector target for ${workerName}: ${targets.map((t) => t.id).join(", ")}`);
  const socket = new WebSocket(target.webSocketDebuggerUrl);
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

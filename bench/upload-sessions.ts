// `npm run bench -- upload-sessions`: a large model through upload sessions.
// 1. S3: parts to presigned URLs (the bytes never pass the Worker) against @aws-sdk/lib-storage
//    putting the same file directly, same part size and concurrency, alternating, same run.
// 2. Local R2 through the service's part endpoint: workerd's peak RSS against a Worker that only
//    drains the same part requests.
import { S3Client } from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { createReadStream, mkdirSync, writeFileSync } from "node:fs";
import { Readable } from "node:stream";
import { availableParallelism, loadavg } from "node:os";
import { join } from "node:path";
import { type S3Peer, startS3Peer } from "../test/setup/s3-peer.ts";
import { type DevServer, devToken, projectRoot, residentMemory, startDevServer } from "../test/support/node/dev-server.ts";
import { SessionClient, type Session, partRange } from "../test/support/node/session-client.ts";
import { s3Settings } from "../test/support/s3-peer-info.ts";
import { largeModel } from "./large-model.ts";
import { mib, printTable } from "./table.ts";

const megabytes = Number(process.env.BENCH_SESSIONS_MB ?? 1000);
const rounds = Number(process.env.BENCH_SESSIONS_ROUNDS ?? 3);
const partSize = 8 * 1024 * 1024;
const concurrency = Number(process.env.BENCH_SESSIONS_CONCURRENCY ?? 4);
const TARGET_RATIO = 1.1;
const MEMORY_MARGIN = 64 * 1024 * 1024;
// Processing stays out of the way: the benchmark measures the upload alone.
const quiet = { LOG_LEVEL: "warn", PROCESSING_START_DELAY_MS: "3600000" };

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[middle] ?? 0) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
};

/** Create, every part to its URL (4 in flight), complete: the whole client-side session. */
async function throughSession(client: SessionClient, path: string, bytes: number, name: string): Promise<number> {
  const started = performance.now();
  const session = await client.create(name, bytes);
  if (session.partSize !== partSize) throw new Error(`the service chose ${session.partSize}-byte parts, the benchmark compares ${partSize}`);
  const parts = await client.sendParts(session, path, Array.from({ length: session.partCount }, (_, i) => i + 1), concurrency);
  await client.complete(session, parts);
  return (performance.now() - started) / 1000;
}

async function direct(s3: S3Client, peer: S3Peer, path: string, key: string): Promise<number> {
  const started = performance.now();
  await new Upload({
    client: s3,
    params: { Bucket: peer.bucket, Key: key, Body: createReadStream(path), ServerSideEncryption: "AES256", ContentType: "application/x-step" },
    partSize,
    queueSize: concurrency,
  }).done();
  return (performance.now() - started) / 1000;
}

async function s3Comparison(path: string, bytes: number): Promise<{ rows: Record<string, string | number>[]; ratio: number }> {
  const peer = await startS3Peer({ bucket: "ifc-bench-sessions" });
  let server: DevServer | undefined;
  try {
    server = await startDevServer({ vars: { ...s3Settings(peer), ...quiet } });
    const client = new SessionClient(server.url, await devToken(["bench"]), "bench");
    const s3 = new S3Client({
      endpoint: peer.endpoint,
      forcePathStyle: true,
      region: peer.region,
      credentials: { accessKeyId: peer.accessKeyId, secretAccessKey: peer.secretAccessKey },
      requestChecksumCalculation: "WHEN_REQUIRED",
      responseChecksumValidation: "WHEN_REQUIRED",
    });
    const samples = { session: [] as number[], direct: [] as number[] };
    for (let round = 1; round <= rounds; round++) {
      const order = round % 2 === 1 ? (["session", "direct"] as const) : (["direct", "session"] as const);
      for (const which of order) {
        console.log(`round ${round}/${rounds}: ${which} ...`);
        const seconds = which === "session" ? await throughSession(client, path, bytes, `s-${round}.ifc`) : await direct(s3, peer, path, `direct/d-${round}.ifc`);
        console.log(`  ${seconds.toFixed(2)} s`);
        samples[which].push(seconds);
      }
    }
    s3.destroy();
    if (peer.proxy.pendingUploads().length > 0) throw new Error("multipart uploads were left open");
    const presigned = peer.proxy.requests().filter((r) => r.operation === "UploadPart" && r.presigned);
    if (presigned.some((r) => r.signature !== "valid")) throw new Error("a presigned part failed verification");
    const ours = median(samples.session);
    const theirs = median(samples.direct);
    const row = (label: string, runs: number[], seconds: number, ratio: string) => ({
      path: label,
      "size MB": (bytes / 1e6).toFixed(1),
      runs: runs.map((s) => s.toFixed(2)).join(" / "),
      "median s": seconds.toFixed(2),
      "MB/s": (bytes / 1e6 / seconds).toFixed(1),
      "session/direct": ratio,
    });
    const ratio = ours / theirs;
    return {
      rows: [
        row("upload session: presigned S3 parts (npm run dev, S3 driver)", samples.session, ours, ratio.toFixed(2)),
        row("@aws-sdk/lib-storage Upload, directly", samples.direct, theirs, "1.00"),
      ],
      ratio,
    };
  } finally {
    await server?.stop();
    await peer.stop();
  }
}

/** Runs `send` while workerd's peak RSS (VmHWM) is sampled. */
async function partsWithPeak(server: DevServer, send: () => Promise<void>): Promise<{ seconds: number; idle: number; peak: number }> {
  const pid = server.workerdPid();
  if (pid === undefined) throw new Error("no workerd process found under wrangler dev");
  const idle = residentMemory(pid).current;
  let peak = residentMemory(pid).peak;
  const sampler = setInterval(() => {
    try {
      peak = Math.max(peak, residentMemory(pid).peak);
    } catch {
      clearInterval(sampler);
    }
  }, 200);
  const started = performance.now();
  try {
    await send();
  } finally {
    clearInterval(sampler);
  }
  peak = Math.max(peak, residentMemory(pid).peak);
  return { seconds: (performance.now() - started) / 1000, idle, peak };
}

async function partEndpointPeak(path: string, bytes: number, token: string, vars: Record<string, string>): Promise<{ seconds: number; idle: number; peak: number }> {
  const server = await startDevServer({ vars });
  try {
    const client = new SessionClient(server.url, token, "bench", { viaService: true });
    const measured = await partsWithPeak(server, async () => {
      await throughSession(client, path, bytes, "parts.ifc");
    });
    console.log(`  ${measured.seconds.toFixed(1)} s, VmHWM ${mib(measured.peak)} MiB`);
    return measured;
  } finally {
    await server.stop();
  }
}

async function r2Memory(path: string, bytes: number): Promise<{ rows: Record<string, string | number>[]; overFloor: number }> {
  const rows: Record<string, string | number>[] = [];
  const token = await devToken(["bench"]);
  console.log("floor: the same part PUTs to a Worker that only drains them ...");
  const floorServer = await startDevServer({ config: "bench/baseline/wrangler.toml" });
  let floor: { seconds: number; idle: number; peak: number };
  try {
    // The same part requests, to a Worker that only reads each body to its end.
    const shape: Session = { uploadId: "floor", partSize, partCount: Math.ceil(bytes / partSize), size: bytes, links: { self: "/drain" } };
    floor = await partsWithPeak(floorServer, async () => {
      const queue = Array.from({ length: shape.partCount }, (_, i) => i + 1);
      const worker = async () => {
        for (let n = queue.shift(); n !== undefined; n = queue.shift()) {
          const { start, end } = partRange(shape, n);
          const response = await fetch(`${floorServer.url}/drain`, {
            method: "PUT",
            headers: { "content-length": String(end - start) },
            body: Readable.toWeb(createReadStream(path, { start, end: end - 1 })) as ReadableStream<Uint8Array>,
            duplex: "half",
          } as RequestInit & { duplex: "half" });
          await response.arrayBuffer();
        }
      };
      await Promise.all(Array.from({ length: concurrency }, worker));
    });
  } finally {
    await floorServer.stop();
  }
  console.log(`floor: ${(floor.seconds).toFixed(1)} s, VmHWM ${mib(floor.peak)} MiB`);
  console.log("upload session through the part endpoint into local R2 ...");
  const ours = await partEndpointPeak(path, bytes, token, quiet);
  // The same part requests through the same endpoint into S3 (s3rver, outside workerd): what the
  // Worker itself holds, without the local R2 simulator that runs inside the same workerd.
  console.log("upload session through the part endpoint into S3 ...");
  const peer = await startS3Peer({ bucket: "ifc-bench-part-endpoint" });
  let viaS3: { seconds: number; idle: number; peak: number };
  try {
    viaS3 = await partEndpointPeak(path, bytes, token, { ...s3Settings(peer), ...quiet });
  } finally {
    await peer.stop();
  }
  const row = (label: string, m: { seconds: number; idle: number; peak: number }, over: string) => ({
    worker: label,
    "size MiB": mib(bytes),
    seconds: m.seconds.toFixed(1),
    "MB/s": (bytes / 1e6 / m.seconds).toFixed(0),
    "idle RSS MiB": mib(m.idle),
    "VmHWM MiB": mib(m.peak),
    "over floor MiB": over,
  });
  rows.push(row("bare Worker draining the same part PUTs (floor)", floor, "-"));
  rows.push(row("upload session: part endpoint -> local R2 multipart", ours, mib(ours.peak - floor.peak)));
  rows.push(row("upload session: part endpoint -> S3 (s3rver outside workerd)", viaS3, mib(viaS3.peak - floor.peak)));
  return { rows, overFloor: ours.peak - floor.peak };
}

export const uploadSessions = {
  name: "upload-sessions",
  description: `a ${megabytes} MB model through upload sessions: presigned S3 parts vs @aws-sdk/lib-storage, and the R2 part endpoint's memory vs a draining Worker`,
  async run(): Promise<void> {
    const model = largeModel(megabytes);
    console.log(`model: ${model.path} (${mib(model.bytes)} MiB, ${model.copies} copies of duplex.ifc)`);
    const only = process.env.BENCH_ONLY;
    const s3 = only === undefined || only === "s3" ? await s3Comparison(model.path, model.bytes) : undefined;
    const r2 = only === undefined || only === "r2" ? await r2Memory(model.path, model.bytes) : undefined;
    if (s3) {
      printTable(`S3 upload of a ${megabytes} MB model, 8 MiB parts x ${concurrency} in flight, both through the SigV4 proxy into s3rver (median of ${rounds})`, s3.rows);
      console.log(`ratio session/direct ${s3.ratio.toFixed(2)} (target <= ${TARGET_RATIO}): ${s3.ratio <= TARGET_RATIO ? "met" : "NOT met"}`);
    }
    if (r2) {
      printTable(`Upload session of a ${megabytes} MB model into local R2 through wrangler dev, 8 MiB parts x ${concurrency} (peak RSS of workerd)`, r2.rows);
      console.log(`over the floor: ${mib(r2.overFloor)} MiB (target <= ${mib(MEMORY_MARGIN)}): ${r2.overFloor <= MEMORY_MARGIN ? "met" : "NOT met"}`);
    }
    console.log(`machine load average: ${loadavg().map((l) => l.toFixed(1)).join(" ")} on ${availableParallelism()} cores`);
    const outDir = join(projectRoot, "bench", "results");
    mkdirSync(outDir, { recursive: true });
    writeFileSync(
      join(outDir, "upload-sessions.json"),
      `${JSON.stringify({ megabytes, bytes: model.bytes, partSize, concurrency, rounds, s3, r2, targets: { ratio: TARGET_RATIO, memoryMarginBytes: MEMORY_MARGIN }, loadAverage: loadavg() }, null, 2)}\n`,
    );
  },
};

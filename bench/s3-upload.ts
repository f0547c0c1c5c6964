import { S3Client } from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { execFile } from "node:child_process";
import { createReadStream, mkdirSync, writeFileSync } from "node:fs";
import { availableParallelism, loadavg } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { startS3Peer, type S3Peer } from "../test/setup/s3-peer.ts";
import { type RecordedRequest, s3Settings } from "../test/support/s3-peer-info.ts";
import { devToken, projectRoot, startDevServer } from "../test/support/node/dev-server.ts";
import { largeModel } from "./large-model.ts";
import { mib, printTable } from "./table.ts";

const run = promisify(execFile);
const megabytes = Number(process.env.BENCH_S3_MB ?? 100);
const rounds = Number(process.env.BENCH_S3_ROUNDS ?? 3);
const partSize = 8 * 1024 * 1024;
const concurrency = 4;
const TARGET_RATIO = 1.3;

const PATHS = ["ours", "signed", "direct", "floor"] as const;
type Path = (typeof PATHS)[number];

const LABELS: Record<Path, string> = {
  ours: "npm run dev -> S3 adapter (aws4fetch)",
  signed: "npm run dev -> S3 adapter, S3_SIGN_PAYLOAD=true",
  direct: "@aws-sdk/lib-storage Upload",
  floor: "floor: npm run dev of a Worker that only drains the body (no storage)",
};

interface Sample {
  path: Path;
  round: number;
  seconds: number;
  key: string;
}

/** Our service: curl streams the file from disk into `npm run dev`, which writes to S3. */
async function uploadThroughService(url: string, token: string, path: string, name: string): Promise<number> {
  const { stdout } = await run(
    "curl",
    ["-sS", "-o", "/dev/null", "-w", "%{http_code} %{time_total}", "-H", `Authorization: Bearer ${token}`, "-T", path, "-X", "POST", `${url}/v1/projects/bench/models?filename=${name}`],
    { maxBuffer: 1024 * 1024 },
  );
  const [status, seconds] = stdout.trim().split(" ");
  if (status !== "202") throw new Error(`upload through the service answered ${status}`);
  return Number(seconds);
}

/** The reference: the same file put by AWS's own SDK (lib-storage Upload), same part size and concurrency. */
async function uploadDirect(client: S3Client, peer: S3Peer, path: string, key: string): Promise<number> {
  const started = performance.now();
  await new Upload({
    client,
    params: { Bucket: peer.bucket, Key: key, Body: createReadStream(path), ServerSideEncryption: "AES256", ContentType: "application/x-step" },
    partSize,
    queueSize: concurrency,
  }).done();
  return (performance.now() - started) / 1000;
}

function describeRequests(requests: RecordedRequest[]): { parts: number; payload: string; signatures: string } {
  const parts = requests.filter((r) => r.operation === "UploadPart");
  const hashes = new Set(parts.map((r) => (r.contentSha256 === "UNSIGNED-PAYLOAD" ? "unsigned" : r.contentSha256 ? "signed sha256" : "none")));
  const signatures = new Set(requests.map((r) => r.signature));
  return { parts: parts.length, payload: [...hashes].join("+"), signatures: [...signatures].join("+") };
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[middle] ?? 0) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
};

export const s3Upload = {
  name: "s3-upload",
  description: `a ${megabytes} MB model through npm run dev (STORAGE_DRIVER=s3) vs @aws-sdk/lib-storage, both into s3rver through the SigV4 proxy`,
  async run(): Promise<void> {
    const model = largeModel(megabytes);
    console.log(`model: ${model.path} (${mib(model.bytes)} MiB)`);
    console.log("starting s3rver and the SigV4 proxy ...");
    const peer = await startS3Peer({ bucket: "ifc-bench" });
    let server: Awaited<ReturnType<typeof startDevServer>> | undefined;
    let signedServer: Awaited<ReturnType<typeof startDevServer>> | undefined;
    let floor: Awaited<ReturnType<typeof startDevServer>> | undefined;
    const vars = {
      ...s3Settings(peer),
      S3_PART_SIZE: String(partSize),
      S3_UPLOAD_CONCURRENCY: String(concurrency),
      // Measure the upload alone: a job processing the previous model would share the CPU.
      PROCESSING_START_DELAY_MS: "3600000",
      LOG_LEVEL: "warn",
    };
    try {
      console.log("starting npm run dev with STORAGE_DRIVER=s3 ...");
      server = await startDevServer({ vars });
      // The SDK signs every part's SHA-256: this row compares like with like.
      console.log("starting npm run dev with STORAGE_DRIVER=s3 and S3_SIGN_PAYLOAD=true ...");
      signedServer = await startDevServer({ vars: { ...vars, S3_SIGN_PAYLOAD: "true" } });
      const token = await devToken(["bench"]);
      const client = new S3Client({
        endpoint: peer.endpoint,
        forcePathStyle: true,
        region: peer.region,
        credentials: { accessKeyId: peer.accessKeyId, secretAccessKey: peer.secretAccessKey },
        // Plain parts, as ours: no aws-chunked CRC trailers (s3rver cannot store those either).
        requestChecksumCalculation: "WHEN_REQUIRED",
        responseChecksumValidation: "WHEN_REQUIRED",
      });

      // For context, not for the ratio: what wrangler dev alone costs to receive the body.
      console.log("starting the bare draining Worker (floor) ...");
      floor = await startDevServer({ config: "bench/baseline/wrangler.toml" });

      const samples: Sample[] = [];
      // Alternate the two paths so drift on the machine (page cache, other load) hits both alike.
      for (let round = 1; round <= rounds; round++) {
        for (const path of PATHS) {
          const name = `${path}-${round}.ifc`;
          console.log(`round ${round}/${rounds}: ${LABELS[path]} ...`);
          const seconds =
            path === "direct"
              ? await uploadDirect(client, peer, model.path, `direct/${name}`)
              : await uploadThroughService({ ours: server, signed: signedServer, floor }[path].url, token, model.path, name);
          const key = peer.proxy.requests().find((r) => r.key.endsWith(`/${name}`) || r.key === `direct/${name}`)?.key ?? "";
          console.log(`  ${seconds.toFixed(2)} s, ${(model.bytes / 1e6 / seconds).toFixed(1)} MB/s`);
          samples.push({ path, round, seconds, key });
        }
      }
      if (peer.proxy.pendingUploads().length > 0) throw new Error("multipart uploads were left open");
      client.destroy();

      const rows: Record<string, string | number>[] = [];
      const medians = new Map<string, number>();
      for (const path of PATHS) {
        const mine = samples.filter((s) => s.path === path);
        const seconds = median(mine.map((s) => s.seconds));
        medians.set(path, seconds);
        const requests = peer.proxy.requests().filter((r) => mine.some((s) => s.key === r.key));
        const seen = describeRequests(requests);
        rows.push({
          path: LABELS[path],
          "size MB": (model.bytes / 1e6).toFixed(1),
          runs: mine.map((s) => s.seconds.toFixed(2)).join(" / "),
          "median s": seconds.toFixed(2),
          "MB/s": (model.bytes / 1e6 / seconds).toFixed(1),
          "parts/run": seen.parts / mine.length,
          payload: seen.payload,
          signatures: seen.signatures,
        });
      }
      const direct = medians.get("direct") ?? 1;
      const ratio = (medians.get("ours") ?? 0) / direct;
      const signedRatio = (medians.get("signed") ?? 0) / direct;
      PATHS.forEach((path, index) => {
        const row = rows[index];
        if (row) row["ours/direct"] = path === "floor" ? "-" : ((medians.get(path) ?? 0) / direct).toFixed(2);
      });
      printTable(
        `S3 upload of a ${megabytes} MB model, ${mib(partSize)} MiB parts x ${concurrency} in flight, both through the SigV4 proxy into s3rver (median of ${rounds})`,
        rows,
      );
      console.log(`ratio ours/direct ${ratio.toFixed(2)} (target <= ${TARGET_RATIO}): ${ratio <= TARGET_RATIO ? "met" : "NOT met"}`);
      console.log(`with signed payloads as the SDK's: ${signedRatio.toFixed(2)} (${signedRatio <= TARGET_RATIO ? "met" : "NOT met"})`);
      console.log(`machine load average while it ran: ${loadavg().map((l) => l.toFixed(1)).join(" ")} on ${availableParallelism()} cores`);
      const outDir = join(projectRoot, "bench", "results");
      mkdirSync(outDir, { recursive: true });
      writeFileSync(
        join(outDir, "s3-upload.json"),
        `${JSON.stringify({ megabytes, bytes: model.bytes, partSize, concurrency, rounds, route: "both via SigV4 proxy -> s3rver", samples, rows, ratio, signedRatio, target: TARGET_RATIO, loadAverage: loadavg(), cores: availableParallelism() }, null, 2)}\n`,
      );
    } finally {
      await floor?.stop();
      await signedServer?.stop();
      await server?.stop();
      await peer.stop();
    }
  },
};

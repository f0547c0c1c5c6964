// Scan benchmark Worker. Request-body rows: /drain reads the body to the end chunk by chunk;
// /drain-blocks reads it as the engine does (BYOB into one reused 1 MiB block) and does
// nothing else, the floor of the engine's own reads; /tokenize runs the tokenizer and summary
// builder over the body's chunks; /scan runs the stream engine as a job does (blocks,
// tokenizer, builder, SHA-256). Stored-object rows, as a job reads its model: /store puts the
// body into local R2 once; /r2-drain-blocks and /r2-scan read it back.
import { streamSource } from "../../src/lib/byte-source";
import { streamProcessor } from "../../src/processing/stream";
import { readResumable } from "../../src/processing/resumable-read";
import { StepTokenizer } from "../../src/processing/step-tokenizer";
import { SummaryBuilder } from "../../src/processing/summary-builder";

interface Env {
  BUCKET: R2Bucket;
}

const STORED_KEY = "bench/model.ifc";
/** The same bytes stored as the service stores a large upload: an R2 multipart upload of 8 MiB parts. */
const MULTIPART_KEY = "bench/model-multipart.ifc";
const PART_BYTES = 8 * 1024 * 1024;

async function* chunks(body: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
  const reader = body.getReader();
  for (let next = await reader.read(); !next.done; next = await reader.read()) yield next.value;
}

async function drainBlocks(size: number, open: () => Promise<ReadableStream<Uint8Array>>): Promise<number> {
  let bytes = 0;
  for await (const block of readResumable({ size, open }, { maxResumes: 0 })) bytes += block.byteLength;
  return bytes;
}

async function storeMultipart(env: Env, body: ReadableStream<Uint8Array>): Promise<number> {
  const upload = await env.BUCKET.createMultipartUpload(MULTIPART_KEY);
  const parts: R2UploadedPart[] = [];
  let size = 0;
  const source = streamSource(body);
  for (let buffer: Uint8Array = new Uint8Array(PART_BYTES); ; ) {
    const filled = await source.fill(buffer, 0, PART_BYTES);
    buffer = filled.buffer;
    if (filled.end > 0) parts.push(await upload.uploadPart(parts.length + 1, buffer.slice(0, filled.end)));
    size += filled.end;
    if (filled.end < PART_BYTES) break;
  }
  await upload.complete(parts);
  return size;
}

async function stored(env: Env, key: string): Promise<{ size: number; open: () => Promise<ReadableStream<Uint8Array>> }> {
  const head = await env.BUCKET.head(key);
  if (!head) throw new Error("nothing stored: POST /store first");
  return {
    size: head.size,
    open: async () => {
      // As the job reads it: a ranged read from the offset reached (0 at first).
      const object = await env.BUCKET.get(key, { range: { offset: 0 } });
      if (!object) throw new Error("stored model vanished");
      return object.body;
    },
  };
}

async function scan(size: number, open: () => Promise<ReadableStream<Uint8Array>>): Promise<Response> {
  const summary = await streamProcessor().process({ size, open });
  return Response.json({ entityCount: summary.entityCount, sha256: summary.file.sha256, summary });
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === "/healthz") return Response.json({ status: "ok" });
    const key = url.pathname.startsWith("/r2-multipart-") ? MULTIPART_KEY : STORED_KEY;
    if (url.pathname.endsWith("drain-blocks") && url.pathname.startsWith("/r2-")) {
      const model = await stored(env, key);
      return Response.json({ bytes: await drainBlocks(model.size, model.open) });
    }
    if (url.pathname.endsWith("scan") && url.pathname.startsWith("/r2-")) {
      const model = await stored(env, key);
      return scan(model.size, model.open);
    }
    const size = Number(request.headers.get("content-length") ?? 0);
    const body = request.body;
    if (!body) return Response.json({ error: "no body" }, { status: 400 });
    if (url.pathname === "/store-multipart") return Response.json({ bytes: await storeMultipart(env, body) });
    if (url.pathname === "/store") {
      const object = await env.BUCKET.put(STORED_KEY, body);
      return Response.json({ bytes: object?.size ?? 0 });
    }
    if (url.pathname === "/scan") return scan(size, async () => body);
    if (url.pathname === "/drain-blocks") return Response.json({ bytes: await drainBlocks(size, async () => body) });
    if (url.pathname === "/tokenize") {
      const builder = new SummaryBuilder();
      const tokenizer = new StepTokenizer(builder);
      for await (const chunk of chunks(body)) tokenizer.push(chunk);
      tokenizer.end();
      return Response.json({ entityCount: builder.entityCount, fatal: tokenizer.fatal });
    }
    let bytes = 0;
    for await (const chunk of chunks(body)) bytes += chunk.byteLength;
    return Response.json({ bytes });
  },
};

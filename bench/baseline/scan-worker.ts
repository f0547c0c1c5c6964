// Scan benchmark Worker: /drain reads the request body to the end, chunk by chunk (the floor
// row); /scan runs the stream engine as a job does (blocks read into a reused buffer,
// tokenizer, summary builder, SHA-256) over the same body; /tokenize runs the tokenizer and
// summary builder over the body's chunks, without the hash.
import { streamProcessor } from "../../src/processing/stream";
import { StepTokenizer } from "../../src/processing/step-tokenizer";
import { SummaryBuilder } from "../../src/processing/summary-builder";

async function* chunks(body: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
  const reader = body.getReader();
  for (let next = await reader.read(); !next.done; next = await reader.read()) yield next.value;
}

export default {
  async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === "/healthz") return Response.json({ status: "ok" });
    const size = Number(request.headers.get("content-length") ?? 0);
    const body = request.body;
    if (!body) return Response.json({ error: "no body" }, { status: 400 });
    if (url.pathname === "/scan") {
      // The stream engine as the job runs it: reads in reused blocks, hash, tokenizer, builder.
      const summary = await streamProcessor().process({ size, open: async () => body });
      return Response.json({ entityCount: summary.entityCount, sha256: summary.file.sha256, summary });
    }
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

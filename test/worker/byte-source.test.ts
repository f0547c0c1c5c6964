import { describe, expect, it } from "vitest";
import { openMultipartFile } from "../../src/ingest/multipart-file";
import { type ByteSource, streamSource } from "../../src/lib/byte-source";
import { byteStream, chunked, pattern } from "../support/streams";

const MiB = 1024 * 1024;
const encoder = new TextEncoder();

async function readAll(source: ByteSource, blockBytes: number): Promise<Uint8Array> {
  const blocks: Uint8Array[] = [];
  let block: Uint8Array = new Uint8Array(blockBytes);
  for (;;) {
    const filled = await source.fill(block, 0, blockBytes);
    block = filled.buffer;
    blocks.push(block.slice(0, filled.end));
    if (filled.end < blockBytes) break;
  }
  const out = new Uint8Array(blocks.reduce((total, b) => total + b.byteLength, 0));
  let at = 0;
  for (const b of blocks) {
    out.set(b, at);
    at += b.byteLength;
  }
  return out;
}

const kinds = [
  ["a runtime byte stream (BYOB)", (bytes: Uint8Array) => byteStream(bytes)],
  ["a JavaScript stream of odd chunks", (bytes: Uint8Array) => chunked(bytes, 1000)],
] as const;

describe.each(kinds)("streamSource over %s", (_name, make) => {
  it("fills at least what it is asked for until the body ends, then less", async () => {
    const bytes = pattern(10_000);
    const source = streamSource(make(bytes));
    let block: Uint8Array = new Uint8Array(4096);
    const first = await source.fill(block, 0, 4096);
    expect(first.end).toBe(4096);
    block = first.buffer;
    expect(block.subarray(0, 4096)).toEqual(bytes.subarray(0, 4096));
    // From an offset: the bytes before it stay as they were.
    block.set([1, 2, 3]);
    const second = await source.fill(block, 3, 4093);
    expect(second.end).toBe(4096);
    expect(second.buffer.subarray(0, 3)).toEqual(Uint8Array.from([1, 2, 3]));
    expect(second.buffer.subarray(3, 4096)).toEqual(bytes.subarray(4096, 8189));
    const last = await source.fill(second.buffer, 0, 4096);
    expect(last.end).toBe(10_000 - 8189);
    expect(last.buffer.subarray(0, last.end)).toEqual(bytes.subarray(8189));
    expect((await source.fill(last.buffer, 0, 4096)).end).toBe(0);
  });

  it("reads a body longer than its buffer, block after block, byte for byte", async () => {
    const bytes = pattern(3 * MiB + 17);
    expect(await readAll(streamSource(make(bytes)), MiB)).toEqual(bytes);
  });

  it("cancels the stream it reads", async () => {
    let cancelled: unknown;
    const stream = new ReadableStream<Uint8Array>({
      pull: (controller) => controller.enqueue(new Uint8Array(10)),
      cancel: (reason) => {
        cancelled = reason;
      },
    });
    const source = streamSource(stream);
    await source.fill(new Uint8Array(5), 0, 5);
    await source.cancel("client gone");
    expect(cancelled).toBe("client gone");
  });
});

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/** `pieces` pieces of 1000 bytes, one every `everyMs`; then the end, or nothing more at all (a stall). */
const trickles = [
  [
    "a runtime byte stream (BYOB)",
    (pieces: number, everyMs: number, stall: boolean): ReadableStream<Uint8Array> => {
      const { readable, writable } = new IdentityTransformStream();
      const writer = writable.getWriter();
      void (async () => {
        for (let i = 0; i < pieces; i++) {
          await sleep(everyMs);
          await writer.write(pattern(1000));
        }
        if (!stall) await writer.close();
      })().catch(() => undefined);
      return readable;
    },
  ],
  [
    "a JavaScript stream",
    (pieces: number, everyMs: number, stall: boolean): ReadableStream<Uint8Array> => {
      let sent = 0;
      return new ReadableStream<Uint8Array>({
        async pull(controller) {
          if (sent === pieces) {
            if (stall) return new Promise<void>(() => undefined);
            return controller.close();
          }
          await sleep(everyMs);
          controller.enqueue(pattern(1000));
          sent++;
        },
      });
    },
  ],
] as const;

describe.each(trickles)("the idle limit of a streamSource over %s", (_name, trickle) => {
  const onIdle = () => new Error("went quiet");

  it("keeps reading a body that is never quiet for the limit, however long it takes in all", async () => {
    const source = streamSource(trickle(12, 40, false), { idleTimeoutMs: 150, onIdle });
    const started = Date.now();
    expect((await readAll(source, 1000)).byteLength).toBe(12_000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(400);
  });

  it("fails the read that brings nothing for the limit, even after a long wait between reads", async () => {
    const source = streamSource(trickle(2, 10, true), { idleTimeoutMs: 150, onIdle });
    const block = new Uint8Array(1000);
    expect((await source.fill(block, 0, 1000)).end).toBe(1000);
    // Longer than the limit between two reads is the reader's own time, not the client's.
    await sleep(200);
    const second = await source.fill(new Uint8Array(1000), 0, 1000);
    expect(second.end).toBe(1000);
    const waited = Date.now();
    await expect(source.fill(second.buffer, 0, 1000)).rejects.toThrow("went quiet");
    expect(Date.now() - waited).toBeGreaterThanOrEqual(140);
    await source.cancel("stalled");
  });
});

describe("multipart file over 1 MiB scan blocks", () => {
  const boundary = "----bound4ry";
  const form = (content: Uint8Array, preamble: number): Uint8Array =>
    Uint8Array.from([
      ...encoder.encode(`${"p".repeat(preamble)}\r\n--${boundary}\r\ncontent-disposition: form-data; name="note"\r\n\r\nhello\r\n`),
      ...encoder.encode(`--${boundary}\r\ncontent-disposition: form-data; name="file"; filename="m.ifc"\r\n\r\n`),
      ...content,
      ...encoder.encode(`\r\n--${boundary}--\r\n`),
    ]);

  it("finds a delimiter cut by the end of a scan block, wherever the cut falls", async () => {
    const content = pattern(MiB - 1000, 3);
    // The scanner reads the body behind a virtual CRLF, so its first block ends 2 bytes short of
    // 1 MiB into the body; the closing delimiter (16 bytes) starts at every offset around it.
    const header = form(new Uint8Array(0), 0).byteLength - `\r\n--${boundary}--\r\n`.length;
    for (let shift = -20; shift <= 2; shift++) {
      const preamble = MiB - header - content.byteLength + shift;
      for (const [, make] of kinds) {
        const file = await openMultipartFile(make(form(content, preamble)), boundary, "file");
        expect(file.filename).toBe("m.ifc");
        expect(await readAll(file.body, 256 * 1024)).toEqual(content);
      }
    }
  });

  it("streams a file of several blocks byte for byte", async () => {
    const content = pattern(3 * MiB + 5, 11);
    const file = await openMultipartFile(byteStream(form(content, 0)), boundary, "file");
    expect(await readAll(file.body, MiB)).toEqual(content);
  });

  const field = (name: string, value: string): string => `--${boundary}\r\ncontent-disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
  const fileHead = `--${boundary}\r\ncontent-disposition: form-data; name="file"; filename="m.ifc"\r\n\r\n`;

  it("skips small fields after the file and keeps the file intact", async () => {
    const content = pattern(5000, 1);
    const body = Uint8Array.from([...encoder.encode(fileHead), ...content, ...encoder.encode(`\r\n${field("note", "after")}--${boundary}--\r\n`)]);
    const file = await openMultipartFile(byteStream(body), boundary, "file");
    expect(await readAll(file.body, MiB)).toEqual(content);
  });

  it("refuses a field before the file larger than 1 MiB", async () => {
    const body = encoder.encode(`${field("note", "x".repeat(MiB + 1))}${fileHead}ISO-10303-21;\r\n--${boundary}--\r\n`);
    await expect(openMultipartFile(byteStream(body), boundary, "file")).rejects.toMatchObject({ status: 400, slug: "invalid-multipart" });
  });

  it("refuses more than 1 MiB of form after the file", async () => {
    const body = encoder.encode(`${fileHead}ISO-10303-21;\r\n${field("note", "x".repeat(MiB + 1))}--${boundary}--\r\n`);
    const file = await openMultipartFile(byteStream(body), boundary, "file");
    await expect(readAll(file.body, MiB)).rejects.toMatchObject({ status: 400, slug: "invalid-multipart", detail: "The form holds more than 1048576 bytes besides the file." });
  });

  describe("bounds are totals over the whole form", () => {
    const rejects = (body: Uint8Array) =>
      expect(openMultipartFile(byteStream(body), boundary, "file")).rejects.toMatchObject({ status: 400, slug: "invalid-multipart" });

    it("refuses more than 1 MiB of preamble before the first boundary", async () => {
      await rejects(encoder.encode(`${"p".repeat(2 * MiB)}\r\n${fileHead}ISO-10303-21;\r\n--${boundary}--\r\n`));
    });

    it("refuses fields before the file that are each small but together above 1 MiB", async () => {
      const fields = Array.from({ length: 3 }, (_, i) => field(`f${i}`, "x".repeat(400 * 1024))).join("");
      await rejects(encoder.encode(`${fields}${fileHead}ISO-10303-21;\r\n--${boundary}--\r\n`));
    });

    it("refuses more than 100 parts", async () => {
      const fields = Array.from({ length: 101 }, (_, i) => field(`f${i}`, "x")).join("");
      await rejects(encoder.encode(`${fields}${fileHead}ISO-10303-21;\r\n--${boundary}--\r\n`));
    });

    it("refuses part headers above 16 KiB even when they end within the scan block", async () => {
      const head = `--${boundary}\r\ncontent-disposition: form-data; name="file"; filename="m.ifc"\r\nx-pad: ${"h".repeat(900 * 1024)}\r\n\r\n`;
      await rejects(encoder.encode(`${head}ISO-10303-21;\r\n--${boundary}--\r\n`));
    });
  });
});

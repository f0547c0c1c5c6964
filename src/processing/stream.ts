import { type ModelStream, type ProcessOptions, ProcessingError, type StreamProcessor } from "./processor";
import { readResumable } from "./resumable-read";
import { schemaTable } from "./schema-tables";
import { StepTokenizer, type StepProblem } from "./step-tokenizer";
import { type ScanSummary, SummaryBuilder } from "./summary-builder";
import type { ModelSummary } from "./summary";

/** Version of the stream engine's output; bumped when summaries of the same file change. */
export const STREAM_ENGINE_VERSION = "1";

export interface StreamProcessorOptions {
  /** Ranged re-reads allowed per attempt after a read fails part-way. */
  maxResumes?: number;
  now?: () => number;
  onResume?(offset: number, error: unknown): void;
}

/**
 * The stream engine: reads the stored model once, front to back, and builds the whole
 * summary, validation report and SHA-256 in that pass, in memory independent of the model's
 * size (see summary-builder.ts). Any size: maxModelBytes is unbounded.
 */
export function streamProcessor(options: StreamProcessorOptions = {}): StreamProcessor {
  const now = options.now ?? Date.now;
  return {
    engine: "stream",
    input: "stream",
    maxModelBytes: Number.MAX_SAFE_INTEGER,
    async process(model: ModelStream, processOptions: ProcessOptions = {}): Promise<ModelSummary> {
      const started = now();
      const scan = await scanModel(model, { ...options, ...processOptions });
      return {
        ...scan.summary,
        file: { size: model.size, sha256: scan.sha256 },
        processor: { engine: "stream", version: STREAM_ENGINE_VERSION, durationMs: now() - started },
      };
    },
  };
}

export interface ModelScan {
  summary: ScanSummary;
  sha256: string;
}

/** One pass over the stored model: tokenizer, summary builder and SHA-256 side by side. */
export function scanModel(model: ModelStream, options: StreamProcessorOptions & ProcessOptions): Promise<ModelScan> {
  return scanBlocks(readResumable(model, { maxResumes: options.maxResumes ?? 3, onResume: options.onResume }), model.size, options);
}

/** The same pass over blocks from anywhere (web-ifc's random-access copy, tests). */
export async function scanBlocks(blocks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, size: number, options: ProcessOptions = {}): Promise<ModelScan> {
  const builder = new SummaryBuilder();
  const tokenizer = new StepTokenizer(builder);
  const digest = new crypto.DigestStream("SHA-256");
  const hasher = digest.getWriter();
  digest.digest.catch(() => undefined);
  hasher.closed.catch(() => undefined);
  let done = 0;
  let sinceYield = 0;
  try {
    for await (const block of blocks) {
      const hashed = hasher.write(block);
      tokenizer.push(block);
      await hashed;
      done += block.byteLength;
      options.onProgress?.(done, size);
      if (tokenizer.fatal) throw syntaxError(tokenizer.fatal);
      sinceYield += block.byteLength;
      if (sinceYield >= YIELD_EVERY_BYTES) {
        sinceYield = 0;
        await yieldToEventLoop();
      }
    }
    tokenizer.end();
    if (tokenizer.fatal) throw syntaxError(tokenizer.fatal);
    await hasher.close();
  } catch (error) {
    await hasher.abort(error).catch(() => undefined);
    throw error;
  }
  if (builder.entityCount === 0) {
    throw new ProcessingError("invalid_step", "The model's DATA section holds no entity instances; the file is empty or cut short. Export it again.");
  }
  const summary = builder.finish(await schemaTable(builder.schema));
  return { summary, sha256: hex(await digest.digest) };
}

/**
 * Reads of a stream whose bytes are already buffered resolve as microtasks, which never let
 * other work of the isolate run: a request sharing it (an upload's 202, a job poll) would wait
 * for the whole model. A macrotask turn every few MiB (milliseconds of scanning) lets it in.
 */
const YIELD_EVERY_BYTES = 4 * 1024 * 1024;

function yieldToEventLoop(): Promise<void> {
  return new Promise((resume) => setTimeout(resume, 0));
}

function syntaxError(problem: StepProblem): ProcessingError {
  return new ProcessingError(
    "invalid_step",
    `The model is not valid STEP (ISO 10303-21): line ${problem.line}: ${problem.message}. Check the file with an IFC validator and export it again.`,
  );
}

function hex(buffer: ArrayBuffer): string {
  return Array.from(new Uint8Array(buffer), (byte) => byte.toString(16).padStart(2, "0")).join("");
}

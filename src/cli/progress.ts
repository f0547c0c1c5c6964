import cliProgress from "cli-progress";
import { formatBytes, formatRate } from "./format";
import type { Terminal } from "./terminal";

export interface FileProgress {
  /** Bytes that reached the service (or were already there, when resuming). */
  add(bytes: number): void;
  /** Parts that a failed attempt had counted and will send again. */
  takeBack(bytes: number): void;
  finish(): { sentBytes: number; ms: number };
}

/**
 * One bar per file with MB/s and ETA while a person watches; nothing at all for a script
 * (the caller prints one line per file instead).
 */
export class UploadProgress {
  readonly #bars: cliProgress.MultiBar | undefined;

  constructor(terminal: Terminal) {
    this.#bars = terminal.interactive
      ? new cliProgress.MultiBar(
          {
            format: " {name} |{bar}| {percentage}% {done}/{size} {speed} ETA {eta_formatted}",
            barsize: 24,
            hideCursor: true,
            clearOnComplete: false,
            stopOnComplete: false,
            etaBuffer: 50,
            fps: 8,
            stream: process.stderr,
          },
          cliProgress.Presets.shades_classic,
        )
      : undefined;
  }

  file(name: string, size: number, alreadyThere = 0): FileProgress {
    const started = Date.now();
    let value = alreadyThere;
    let sent = 0;
    const label = name.length > 28 ? `${name.slice(0, 25)}...` : name.padEnd(28);
    const payload = () => ({ name: label, done: formatBytes(value), size: formatBytes(size), speed: formatRate(sent, Date.now() - started) });
    const bar = this.#bars?.create(Math.max(size, 1), value, payload());
    return {
      add: (bytes) => {
        value += bytes;
        sent += bytes;
        bar?.update(value, payload());
      },
      takeBack: (bytes) => {
        value -= bytes;
        sent -= bytes;
        bar?.update(value, payload());
      },
      finish: () => {
        bar?.update(value, payload());
        return { sentBytes: sent, ms: Date.now() - started };
      },
    };
  }

  stop(): void {
    this.#bars?.stop();
  }
}

/** Passes a stream through, telling `onBytes` about every chunk as it is read. */
export function counted(source: ReadableStream<Uint8Array>, onBytes: (bytes: number) => void): ReadableStream<Uint8Array> {
  return source.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        onBytes(chunk.byteLength);
        controller.enqueue(chunk);
      },
    }),
  );
}

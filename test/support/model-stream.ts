import type { ModelStream } from "../../src/processing/processor";

/** A stored model held in memory, read as storage answers it: from any offset, in chunks of `chunkBytes`. */
export function bytesModel(bytes: Uint8Array, chunkBytes = 64 * 1024): ModelStream {
  return {
    size: bytes.byteLength,
    open: async (offset) => chunkedStream(bytes.subarray(offset), chunkBytes),
  };
}

export function chunkedStream(bytes: Uint8Array, chunkBytes: number): ReadableStream<Uint8Array> {
  let at = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (at >= bytes.byteLength) return controller.close();
      controller.enqueue(bytes.slice(at, at + chunkBytes));
      at += chunkBytes;
    },
  });
}

export const encode = (text: string): Uint8Array => new TextEncoder().encode(text);

/** A minimal valid STEP file around `data` (DATA section lines). */
export function stepFile(data: string, schema = "IFC4"): string {
  return [
    "ISO-10303-21;",
    "HEADER;",
    "FILE_DESCRIPTION(('ViewDefinition [CoordinationView]'),'2;1');",
    "FILE_NAME('model.ifc','2026-01-01T00:00:00',(''),(''),'pre','sys','');",
    `FILE_SCHEMA(('${schema}'));`,
    "ENDSEC;",
    "DATA;",
    data,
    "ENDSEC;",
    "END-ISO-10303-21;",
    "",
  ].join("\n");
}

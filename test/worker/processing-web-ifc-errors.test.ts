import { describe, expect, it } from "vitest";
import { ProcessingError, type ModelSource } from "../../src/processing/processor";
import { decodeStepString } from "../../src/processing/step-string";
import { webIfcProcessor } from "../../src/processing/web-ifc";
import { discardIfcApi, ifcApi } from "../../src/processing/web-ifc-loader";
import { fixture } from "../support/worker";

const MiB = 1024 * 1024;
const processor = webIfcProcessor(96 * MiB);

const HEADER =
  "ISO-10303-21;\nHEADER;\nFILE_DESCRIPTION(('ViewDefinition [CoordinationView]'),'2;1');\n" +
  "FILE_NAME('t.ifc','2026-01-01T00:00:00',(''),(''),'tests','tests','');\nFILE_SCHEMA(('IFC4'));\nENDSEC;\nDATA;\n";
const model = (data: string, header = HEADER) => new TextEncoder().encode(`${header}${data}ENDSEC;\nEND-ISO-10303-21;\n`);

function sourceOf(bytes: Uint8Array, failAt?: number): ModelSource {
  return {
    size: bytes.byteLength,
    read: (offset, length) => {
      if (failAt !== undefined && offset + length > failAt) throw new ProcessingError("internal", "chunk read failed", true);
      return bytes.subarray(offset, offset + length);
    },
  };
}

async function failure(bytes: Uint8Array | ModelSource): Promise<ProcessingError> {
  const error = await processor.process(bytes instanceof Uint8Array ? sourceOf(bytes) : bytes).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof ProcessingError)) throw new Error(`expected a ProcessingError, got ${String(error)}`);
  return error;
}

async function stillWorks(): Promise<void> {
  const bytes = await fixture("IfcOpenHouse_IFC4.ifc");
  const summary = await processor.process(sourceOf(bytes));
  expect(summary.entityCount).toBe(2885);
}

describe("web-ifc failures", () => {
  it("restores every global it patches while loading", async () => {
    const fetchBefore = globalThis.fetch;
    const streamingBefore = Object.getOwnPropertyDescriptor(WebAssembly, "instantiateStreaming");
    discardIfcApi(); // load afresh here, whatever ran before
    await ifcApi();
    expect(globalThis.fetch).toBe(fetchBefore);
    expect(Object.getOwnPropertyDescriptor(WebAssembly, "instantiateStreaming")).toEqual(streamingBefore);
    expect(typeof process).toBe("object");
    expect(process.versions.node).toBeTruthy();
  });

  it("fails a schema web-ifc does not know with unsupported_schema", async () => {
    const error = await failure(model("#1=IFCMATERIAL('a',$,$);\n", HEADER.replace("IFC4", "IFC9")));
    expect(error).toMatchObject({ code: "unsupported_schema", retryable: false });
    expect(error.message).toMatch(/IFC9.*IFC2X3, IFC4 or IFC4X3/);
    await stillWorks();
  });

  it("fails a syntax error web-ifc rejects with invalid_step", async () => {
    const error = await failure(model("#1=IFCMATERIAL('a',$,$);\n/* never closed\n"));
    expect(error).toMatchObject({ code: "invalid_step", retryable: false });
    expect(error.message).toMatch(/not valid STEP/);
    await stillWorks();
  });

  it("fails a model with no entity instances with invalid_step", async () => {
    expect(await failure(model(""))).toMatchObject({ code: "invalid_step", message: expect.stringMatching(/no entity instances/) });
  });

  it("fails a material nested too deeply for the reader with invalid_step, then reads the next model", async () => {
    const error = await failure(model(`#1=IFCMATERIAL(${"(".repeat(100_000)});\n`));
    expect(error.code).toBe("invalid_step");
    await stillWorks();
  });

  it("recovers when reading the model fails mid-way: the error is kept and the reader is re-created", async () => {
    const before = await ifcApi();
    const bytes = await fixture("duplex.ifc");
    const error = await failure(sourceOf(bytes, 1 * MiB));
    expect(error).toMatchObject({ code: "internal", retryable: true, message: "chunk read failed" });
    expect(await ifcApi()).not.toBe(before);
    await stillWorks();
  });

  it("rejects a model over its memory budget before reading a byte", async () => {
    const small = webIfcProcessor(48 * MiB);
    let reads = 0;
    const error = await small.process({ size: small.maxModelBytes + 1, read: () => (reads++, new Uint8Array(0)) }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "model_too_large" });
    expect(reads).toBe(0);
  });

  it("re-creates the reader after a model grew the heap past half the budget", async () => {
    // About 10 MB: duplex's DATA section five times over, with shifted ids (as scripts/gen-large-ifc.mjs does).
    const text = new TextDecoder("latin1").decode(await fixture("duplex.ifc"));
    const header = text.slice(0, text.indexOf("DATA;") + 6);
    const body = text.slice(text.indexOf("DATA;") + 6, text.lastIndexOf("ENDSEC;"));
    const copies = Array.from({ length: 5 }, (_, n) => (n === 0 ? body : body.replace(/#(\d+)/g, (_m, id: string) => `#${Number(id) + n * 1_000_000}`)));
    const bytes = Uint8Array.from(`${header}${copies.join("")}ENDSEC;\nEND-ISO-10303-21;\n`, (c) => c.charCodeAt(0));
    const before = await ifcApi();
    const summary = await webIfcProcessor(32 * MiB).process(sourceOf(bytes));
    expect(summary.entityCount).toBe(5 * 38898);
    expect(summary.materials.filter((m) => m.name === "Plasterboard").map((m) => m.associatedObjects)).toEqual([63, 63, 63, 63, 63]);
    expect(summary.processor.heapBytes).toBeGreaterThan(16 * MiB);
    expect(await ifcApi()).not.toBe(before);
  });

  it("decodes string escapes as the reference decoder does", async () => {
    // Raw STEP literals; web-ifc decodes them itself, decodeStepString is the reference.
    const raws = ["a\\X2\\00E9\\X0\\b", "c\\X\\E9d", "e\\S\\if", "it''s", "back\\\\slash", "emoji\\X4\\0001F600\\X0\\!", "sur\\X2\\D83DDE00\\X0\\!", "\\PA\\\\S\\D"];
    const bytes = model(raws.map((raw, i) => `#${i + 1}=IFCMATERIAL('${raw}',$,$);\n`).join(""));
    const summary = await processor.process(sourceOf(bytes));
    expect(summary.materials.map((m) => m.name)).toEqual(raws.map(decodeStepString));
  });
});

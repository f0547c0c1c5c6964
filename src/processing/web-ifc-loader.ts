import type { IfcAPI } from "web-ifc";
import webIfcWasm from "web-ifc/web-ifc.wasm";

export type WebIfcLibrary = typeof import("web-ifc");

/**
 * Loads web-ifc inside workerd, once per isolate.
 *
 * web-ifc's emscripten loader was built for browsers, and workerd differs in three ways:
 * - it refuses to compile WASM from bytes, so the loader's fetch + instantiateStreaming
 *   path must be answered with the module wrangler precompiled from the import above;
 * - it defines `process.versions.node` (node compatibility), which the loader takes for
 *   an unsupported Node and throws;
 * - it has `WorkerGlobalScope`, which satisfies the loader's "web or worker" check as is.
 * The globals are patched only while the loader runs and restored right after, so the rest
 * of the isolate never sees them changed.
 */

/** What the loader asks to fetch; answered here, never sent anywhere. */
const WASM_URL = "https://web-ifc.invalid/web-ifc.wasm";

let current: Promise<IfcAPI> | undefined;
let library: Promise<WebIfcLibrary> | undefined;

/**
 * web-ifc's JavaScript (mostly schema tables) is evaluated on first use, not at startup: only a
 * job object processing a model needs it, and evaluated at startup it stays resident in every
 * isolate and slows startup (docs/performance.md). The bundler keeps the module in the same
 * bundle and evaluates it lazily.
 */
export function webIfcLibrary(): Promise<WebIfcLibrary> {
  library ??= import("web-ifc").catch((error: unknown) => {
    library = undefined;
    throw error;
  });
  return library;
}

/** The isolate's web-ifc instance, initialised on first use. */
export function ifcApi(): Promise<IfcAPI> {
  current ??= initialise().catch((error: unknown) => {
    current = undefined; // let the next job try again rather than keep a failed promise
    throw error;
  });
  return current;
}

/**
 * Forgets the instance, so the next job starts with a fresh one: after web-ifc threw or
 * aborted (its state may be broken) or after a model grew the heap (WASM memory never shrinks).
 */
export function discardIfcApi(): void {
  current = undefined;
}

export function heapBytes(api: IfcAPI): number {
  const module = api.wasmModule as { HEAPU8?: Uint8Array } | undefined;
  return module?.HEAPU8?.byteLength ?? 0;
}

async function initialise(): Promise<IfcAPI> {
  const { IfcAPI, LogLevel } = await webIfcLibrary();
  const api = new IfcAPI();
  const restoreWasm = answerWasmRequests();
  try {
    // The environment check runs synchronously when Init starts, so `process` is hidden
    // only for that call; the WASM is requested later, after Init's first await.
    const initialised = withoutProcess(() => api.Init((path) => (path.endsWith(".wasm") ? WASM_URL : path), true));
    await initialised;
  } finally {
    restoreWasm();
  }
  api.SetLogLevel(LogLevel.LOG_LEVEL_OFF); // failures surface as return values and exceptions
  return api;
}

function withoutProcess<T>(run: () => T): T {
  const descriptor = Object.getOwnPropertyDescriptor(globalThis, "process");
  if (!descriptor) return run();
  Reflect.deleteProperty(globalThis, "process");
  try {
    return run();
  } finally {
    Object.defineProperty(globalThis, "process", descriptor);
  }
}

type InstantiateStreaming = (
  source: Response | PromiseLike<Response>,
  imports?: WebAssembly.Imports,
) => Promise<{ module: WebAssembly.Module; instance: WebAssembly.Instance }>;

/**
 * Answers the loader's request for WASM_URL with the precompiled module; every other fetch
 * or instantiation passes through untouched. Returns the function that restores both.
 */
function answerWasmRequests(): () => void {
  const wasmApi = WebAssembly as unknown as { instantiateStreaming?: InstantiateStreaming };
  const originalFetch = globalThis.fetch;
  const streamingDescriptor = Object.getOwnPropertyDescriptor(WebAssembly, "instantiateStreaming");
  const originalStreaming = wasmApi.instantiateStreaming;
  const ours = new WeakSet<Response>();

  globalThis.fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
    if (String(input instanceof Request ? input.url : input) !== WASM_URL) return originalFetch(input, init);
    const response = new Response(null, { headers: { "content-type": "application/wasm" } });
    ours.add(response);
    return response;
  }) as typeof fetch;

  wasmApi.instantiateStreaming = async (source, imports) => {
    const response = await source;
    if (!ours.has(response)) {
      if (!originalStreaming) throw new TypeError("WebAssembly.instantiateStreaming is not available");
      return originalStreaming.call(WebAssembly, response, imports);
    }
    const instance = await WebAssembly.instantiate(webIfcWasm, imports);
    return { module: webIfcWasm, instance };
  };

  return () => {
    globalThis.fetch = originalFetch;
    if (streamingDescriptor) Object.defineProperty(WebAssembly, "instantiateStreaming", streamingDescriptor);
    else Reflect.deleteProperty(WebAssembly, "instantiateStreaming");
  };
}

/** What the STEP scanner reports, and the context its loops work in (see step-tokenizer.ts). */
import type { ScanState } from "./step-scan-state";

export interface TypeSlot {
  readonly name: string;
  /** Whether the sink wants the raw arguments of this type's instances. */
  readonly wanted: boolean;
}

export interface StepProblem {
  severity: "error" | "warning";
  code: string;
  message: string;
  line: number;
}

export interface TokenSink<S extends TypeSlot> {
  /** Called once per distinct type name (upper-case as written). */
  typeSlot(name: string): S;
  entity(id: number, slot: S, line: number): void;
  /** Raw bytes after the type name up to (not including) the closing ';'; null when too large to keep. */
  captured(id: number, slot: S, args: Uint8Array | null, line: number): void;
  /** A header statement such as FILE_NAME with its raw argument bytes. */
  header(keyword: string, args: Uint8Array | null, line: number): void;
  reference(id: number): void;
  problem(problem: StepProblem): void;
}

/** Distinct entity type names accepted (IFC4X3 has fewer than 900); more is not an IFC model. */
export const MAX_TYPES = 4096;

/** Argument bytes kept per captured statement; larger ones are dropped with a warning. */
export const MAX_CAPTURE_BYTES = 8 * 1024 * 1024;

/** The tokenizer as its scan loops see it. */
export interface ScanContext<S extends TypeSlot> {
  readonly sink: TokenSink<S>;
  readonly fatal: StepProblem | null;
  fail(code: string, message: string, line?: number): void;
  warn(code: string, message: string, line?: number): void;
  /** The slot for the type name in state.name[0..nameLength). */
  slotFor(s: ScanState): S;
  /** The slot for an upper-case type name in bytes[start..end) with its nameHash. */
  slotAt(bytes: Uint8Array, start: number, end: number, hash: number): S;
}

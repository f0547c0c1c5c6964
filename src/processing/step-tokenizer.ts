/**
 * Incremental byte-level scanner for STEP physical files (ISO 10303-21), fed chunks cut at
 * any boundary. It reports every entity instance (id, type, line) and every reference, and
 * hands over the raw argument bytes only of the types a sink asks for (and of header
 * statements); everything else is skipped without building strings. Pure: no I/O.
 *
 * Fatal syntax errors stop the scan (the caller fails the model with invalid_step);
 * what can be skipped is reported as a warning.
 */
import { M_COMMENT, M_COMMENT_STAR, M_DEAD, M_STRING, M_STRING_QUOTE, type ScanState, initialState } from "./step-scan-state";
import { MAX_TYPES, type ScanContext, type StepProblem, type TokenSink, type TypeSlot } from "./step-sink";
import { scanChunk } from "./step-statements";
import { TypeTable, nameHash } from "./step-type-table";

export type { StepProblem, TokenSink, TypeSlot } from "./step-sink";
export { MAX_CAPTURE_BYTES, MAX_TYPES } from "./step-sink";

export class StepTokenizer<S extends TypeSlot> implements ScanContext<S> {
  readonly #sink: TokenSink<S>;
  readonly #state: ScanState;
  readonly #types: TypeTable<S>;
  #fatal: StepProblem | null = null;

  constructor(sink: TokenSink<S>) {
    this.#sink = sink;
    this.#state = initialState();
    this.#types = new TypeTable((name) => sink.typeSlot(name));
  }

  /** The fatal error that stopped the scan, if any. */
  get fatal(): StepProblem | null {
    return this.#fatal;
  }

  get line(): number {
    return this.#state.line;
  }

  /** Whether a complete exchange structure (up to END-ISO-10303-21;) has been read. */
  get complete(): boolean {
    return this.#state.ended;
  }

  push(chunk: Uint8Array): void {
    if (this.#fatal) return;
    scanChunk(this, this.#state, chunk);
  }

  /** Call once after the last chunk: reports a file cut short. */
  end(): void {
    const s = this.#state;
    if (this.#fatal) return;
    if (s.mode === M_STRING || s.mode === M_STRING_QUOTE) this.fail("unterminated_string", `the file ends inside a string opened on line ${s.openedLine}`, s.openedLine);
    else if (s.mode === M_COMMENT || s.mode === M_COMMENT_STAR) this.fail("unterminated_comment", `the file ends inside a comment opened on line ${s.openedLine}`, s.openedLine);
    else if (!s.ended) {
      this.fail(
        "unexpected_end",
        s.sawMagic ? "the file ends before END-ISO-10303-21; (cut short?)" : "the file does not start with ISO-10303-21;",
      );
    }
  }

  fail(code: string, message: string, line = this.#state.line): void {
    if (this.#fatal) return;
    this.#fatal = { severity: "error", code, message, line };
    this.#state.mode = M_DEAD;
    this.#sink.problem(this.#fatal);
  }

  warn(code: string, message: string, line = this.#state.line): void {
    this.#sink.problem({ severity: "warning", code, message, line });
  }

  get sink(): TokenSink<S> {
    return this.#sink;
  }

  slotFor(s: ScanState): S {
    return this.slotAt(s.name, 0, s.nameLength, nameHash(s.name, 0, s.nameLength));
  }

  slotAt(bytes: Uint8Array, start: number, end: number, hash: number): S {
    const slot = this.#types.slot(bytes, start, end, hash);
    if (this.#types.size > MAX_TYPES) this.fail("too_many_types", `more than ${MAX_TYPES} distinct entity types: not an IFC model`);
    return slot;
  }
}


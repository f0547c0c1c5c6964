import type { StepProblem, TokenSink, TypeSlot } from "../../src/processing/step-tokenizer";
import { StepTokenizer } from "../../src/processing/step-tokenizer";
import { type StepValue, parseArguments } from "../../src/processing/step-values";

export interface RecordedEntity {
  id: number;
  type: string;
  line: number;
  args?: StepValue[] | null;
}

/** A sink that keeps everything the tokenizer reports; `wanted` decides which arguments it asks for. */
export class StepRecorder implements TokenSink<TypeSlot> {
  readonly entities: RecordedEntity[] = [];
  readonly headers: { keyword: string; args: StepValue[] | null; line: number }[] = [];
  readonly references: number[] = [];
  readonly problems: StepProblem[] = [];

  constructor(private readonly wanted: (type: string) => boolean = () => true) {}

  typeSlot(name: string): TypeSlot {
    return { name, wanted: this.wanted(name) };
  }

  entity(id: number, slot: TypeSlot, line: number): void {
    this.entities.push({ id, type: slot.name, line });
  }

  captured(id: number, _slot: TypeSlot, args: Uint8Array | null): void {
    const last = this.entities[this.entities.length - 1];
    if (last?.id === id) last.args = args ? parseArguments(args) : null;
  }

  header(keyword: string, args: Uint8Array | null, line: number): void {
    this.headers.push({ keyword, args: args ? parseArguments(args) : null, line });
  }

  reference(id: number): void {
    this.references.push(id);
  }

  problem(problem: StepProblem): void {
    this.problems.push(problem);
  }
}

/** Tokenises `bytes` cut at `cuts` (offsets, any order) and answers what was recorded. */
export function tokenise(bytes: Uint8Array, cuts: number[] = [], wanted?: (type: string) => boolean): StepRecorder {
  const recorder = new StepRecorder(wanted);
  const tokenizer = new StepTokenizer(recorder);
  let from = 0;
  for (const cut of [...new Set(cuts)].filter((c) => c > 0 && c < bytes.length).sort((a, b) => a - b)) {
    tokenizer.push(bytes.subarray(from, cut));
    from = cut;
  }
  tokenizer.push(bytes.subarray(from));
  tokenizer.end();
  return recorder;
}

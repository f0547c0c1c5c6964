import type { StepProblem } from "./step-tokenizer";
import type { ValidationIssue, ValidationReport } from "./summary";

/** Entries kept per list; totals count them all. */
export const MAX_ISSUES = 100;

/** Collects errors and warnings for the validation report, keeping the first MAX_ISSUES of each. */
export class ValidationCollector {
  readonly #errors: ValidationIssue[] = [];
  readonly #warnings: ValidationIssue[] = [];
  readonly #seen = new Set<string>();
  #errorCount = 0;
  #warningCount = 0;

  add(problem: StepProblem): void {
    const issue = { line: problem.line, code: problem.code, message: problem.message };
    if (problem.severity === "error") {
      this.#errorCount++;
      if (this.#errors.length < MAX_ISSUES) this.#errors.push(issue);
    } else {
      this.#warningCount++;
      if (this.#warnings.length < MAX_ISSUES) this.#warnings.push(issue);
    }
  }

  warning(code: string, message: string, line: number): void {
    this.add({ severity: "warning", code, message, line });
  }

  /** A warning reported once per code, however often it happens. */
  once(code: string, message: string, line: number): void {
    if (this.#seen.has(code)) return;
    this.#seen.add(code);
    this.warning(code, message, line);
  }

  report(totals: Pick<ValidationReport, "unknownTypes" | "duplicateIds" | "danglingReferences" | "schemaTable">): ValidationReport {
    return {
      errors: [...this.#errors],
      warnings: [...this.#warnings],
      ...totals,
      truncated: this.#errorCount > this.#errors.length || this.#warningCount > this.#warnings.length,
      errorCount: this.#errorCount,
      warningCount: this.#warningCount,
    };
  }
}

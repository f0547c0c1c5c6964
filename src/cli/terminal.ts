import Table from "cli-table3";

/** Where output goes, and whether a person is watching (bars, spinners, colours) or a script. */
export interface Terminal {
  /** A person at a terminal: progress bars, spinners and colours on stderr. */
  readonly interactive: boolean;
  readonly colour: boolean;
  readonly json: boolean;
  out(line: string): void;
  err(line: string): void;
  /** The one JSON document of a --json run. */
  document(value: unknown): void;
  /** Columns under `head`; with an empty head, label-value pairs. */
  table(head: string[], rows: string[][]): string;
  paint(text: string, tone: "good" | "bad" | "dim"): string;
}

export function terminal(options: { json: boolean; stdout?: NodeJS.WriteStream; stderr?: NodeJS.WriteStream; env?: NodeJS.ProcessEnv }): Terminal {
  const stdout = options.stdout ?? process.stdout;
  const stderr = options.stderr ?? process.stderr;
  const env = options.env ?? process.env;
  const interactive = Boolean(stderr.isTTY) && !options.json && env.TERM !== "dumb";
  const colour = interactive && Boolean(stdout.isTTY) && env.NO_COLOR === undefined;
  const codes = { good: "\u001b[32m", bad: "\u001b[31m", dim: "\u001b[2m" };
  return {
    interactive,
    colour,
    json: options.json,
    out: (line) => void stdout.write(`${line}\n`),
    err: (line) => void stderr.write(`${line}\n`),
    document: (value) => void stdout.write(`${JSON.stringify(value, null, 2)}\n`),
    table: (head, rows) => {
      // Without a head: label and value, the values wrapped to the terminal (or 100 columns).
      const width = Math.max(60, stdout.columns || 100);
      const label = Math.max(...rows.map((row) => (row[0] ?? "").length)) + 2;
      const table = new Table({
        head,
        ...(head.length === 0 ? { colWidths: [label, width - label - 3], wordWrap: true } : {}),
        style: colour ? { head: ["bold"] } : { head: [], border: [] },
        // Plain terminals and pipes get ASCII borders only where there is no TTY at all.
        ...(stdout.isTTY ? {} : { chars: ASCII }),
      });
      table.push(...rows);
      return table.toString();
    },
    paint: (text, tone) => (colour ? `${codes[tone]}${text}\u001b[0m` : text),
  };
}

const ASCII = {
  top: "-", "top-mid": "+", "top-left": "+", "top-right": "+",
  bottom: "-", "bottom-mid": "+", "bottom-left": "+", "bottom-right": "+",
  left: "|", "left-mid": "+", mid: "-", "mid-mid": "+",
  right: "|", "right-mid": "+", middle: "|",
};

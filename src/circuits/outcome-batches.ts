import type { OutcomeReport } from "../resilience/circuit-state";

/** One call's outcome and when it ended, on its way to the circuit object. */
export interface TimedReport {
  report: OutcomeReport;
  at: number;
}

/** A sender that has not come back for this long is taken to be lost; the next caller sends instead. */
export const STALE_SEND_MS = 10_000;
/** At most this many reports go in one call to the object, and at most this many wait for one. */
export const MAX_BATCH = 256;

interface Queue {
  reports: TimedReport[];
  /** When the caller now sending this queue last sent a batch; undefined while nobody is. */
  sendingSince: number | undefined;
}

/**
 * Outcome reports of one isolate, per circuit object, batched: while one batch is on its way,
 * the reports that arrive wait and go together when it is back. A burst of calls costs the
 * object a few writes instead of one each, and every outcome is still counted, in order.
 *
 * A plain success waits for the batch in flight; any other outcome (a failure, a timeout, a
 * client error, a probe's result) is sent at once, with the reports queued before it, so the
 * object opens or closes the breaker without delay. No caller awaits another's promise (each
 * sends from its own request): the one that finds nobody sending becomes the sender and keeps
 * sending until the queue is empty.
 */
export class OutcomeBatches {
  readonly #queues = new Map<string, Queue>();

  constructor(private readonly now: () => number = Date.now) {}

  /**
   * Queues `entry` for the object `name`. Answers the sending this caller must keep alive
   * (waitUntil), or undefined when the report rides with a batch someone else sends.
   * `send` must not throw: it reports its own failures.
   */
  add(name: string, entry: TimedReport, send: (batch: TimedReport[]) => Promise<void>): Promise<void> | undefined {
    let queue = this.#queues.get(name);
    if (!queue) {
      queue = { reports: [], sendingSince: undefined };
      this.#queues.set(name, queue);
    }
    queue.reports.push(entry);
    const sending = queue.sendingSince !== undefined && this.now() - queue.sendingSince < STALE_SEND_MS;
    if (!sending) return this.#drain(name, queue, send);
    const urgent = entry.report.outcome !== "success" || entry.report.probe;
    if (!urgent && queue.reports.length < MAX_BATCH) return undefined;
    return send(queue.reports.splice(0));
  }

  /** Reports waiting for the object `name` (for tests and operators' curiosity). */
  waiting(name: string): number {
    return this.#queues.get(name)?.reports.length ?? 0;
  }

  async #drain(name: string, queue: Queue, send: (batch: TimedReport[]) => Promise<void>): Promise<void> {
    try {
      while (queue.reports.length > 0) {
        queue.sendingSince = this.now();
        await send(queue.reports.splice(0, MAX_BATCH));
      }
    } finally {
      queue.sendingSince = undefined;
      if (queue.reports.length === 0 && this.#queues.get(name) === queue) this.#queues.delete(name);
    }
  }
}

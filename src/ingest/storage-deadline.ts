import { DependencyTimeoutError } from "../resilience/errors";

/**
 * A deadline for the storage side of an upload only. Its clock runs while the upload waits on
 * storage (a block the store has not taken yet, the store finishing after the last byte), never
 * while it waits on the client: a slow client is the client's fault, and a 5 GiB upload at a
 * few MB/s must not run into a deadline meant for a hung store. Each wait gets `timeoutMs`.
 * When one passes, `signal` aborts (adapters stop their calls) and the wait rejects with
 * DependencyTimeoutError, which the storage breaker counts as a timeout.
 */
export class StorageDeadline {
  readonly #controller = new AbortController();

  constructor(
    readonly timeoutMs: number,
    readonly key = "storage",
  ) {}

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  async wait<T>(work: Promise<T>): Promise<T> {
    if (this.signal.aborted) throw this.signal.reason;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const error = new DependencyTimeoutError(this.key, this.timeoutMs);
        this.#controller.abort(error);
        reject(error);
      }, this.timeoutMs);
    });
    try {
      return await Promise.race([work, expired]);
    } finally {
      if (timer !== undefined) clearTimeout(timer);
    }
  }
}

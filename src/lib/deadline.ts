/**
 * Settles with `work`, or rejects with `onTimeout()` as soon as `signal` aborts (typically
 * AbortSignal.timeout). Racing matters: a callee that ignores the signal must not hold its
 * caller past the deadline. The listener is removed either way, so nothing outlives the call.
 */
export function withDeadline<T>(work: Promise<T>, signal: AbortSignal, onTimeout: () => Error): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(onTimeout());
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}

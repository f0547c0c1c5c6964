// Shared by the webhook receiver (Node, test/setup) and the tests that read it (workerd): no imports.

export interface ReceivedDelivery {
  receivedAt: number;
  headers: Record<string, string>;
  body: string;
  /** Whether the standardwebhooks library accepted the signature with the registered secret. */
  verified: boolean;
  verifyError?: string;
  answered: number;
}

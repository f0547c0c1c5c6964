import { mkdtempSync, rmSync } from "node:fs";
import type { Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import S3rver from "s3rver";

export const TEST_BUCKET = "ifc-models-test";
/** s3rver's built-in account. It checks the key id of signed requests, so the fault proxy may rewrite Host. */
export const OBJECT_STORE_CREDENTIALS = { region: "us-east-1", accessKeyId: "S3RVER", secretAccessKey: "S3RVER" } as const;

/**
 * A real S3-API object store on 127.0.0.1 (s3rver, files in a temporary folder), the peer
 * the fault proxy sits in front of. s3rver accepts unsigned requests and signed ones from
 * OBJECT_STORE_CREDENTIALS.
 */
export async function startObjectStore(): Promise<{ url: string; close(): Promise<void> }> {
  const directory = mkdtempSync(join(tmpdir(), "s3rver-"));
  const server = new S3rver({ address: "127.0.0.1", port: 0, silent: true, directory, configureBuckets: [{ name: TEST_BUCKET }] });
  const address = await server.run();
  return {
    url: `http://127.0.0.1:${address.port}`,
    close: async () => {
      // Kept-alive client connections would otherwise hold close() open; s3rver keeps its
      // server in a field its typings (test/setup/s3rver.d.ts, shared) do not declare.
      (server as unknown as { httpServer?: Server }).httpServer?.closeAllConnections();
      await server.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}

/**
 * What a client needs to reach the test S3; handed from the Node global setup to workerd.
 * A type alias, not an interface, so it passes as a JSON binding.
 */
export type S3PeerInfo = {
  /** The SigV4-verifying proxy: use this as S3_ENDPOINT. */
  endpoint: string;
  /** s3rver itself, unverified: for diagnostics only. */
  s3rverUrl: string;
  bucket: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
};

declare namespace Cloudflare {
  interface Env {
    JOBS: import("../../src/env").Env["JOBS"];
    MODELS?: R2Bucket;
    FIXTURES_URL: string;
    S3_TEST_PEER: import("./s3-peer-info").S3PeerInfo;
  }
  interface GlobalProps {
    mainModule: typeof import("../../src/index");
    durableNamespaces: "JobObject";
  }
}

declare namespace Cloudflare {
  interface Env {
    JOBS: import("../../src/env").Env["JOBS"];
    MODELS?: R2Bucket;
    PROJECTS: import("../../src/env").Env["PROJECTS"];
    FIXTURES_URL: string;
    FAUXQS_URL: string;
    FAUXQS_CONTROL_URL: string;
    FAUXQS_REGION: string;
    FAUXQS_ACCESS_KEY_ID: string;
    FAUXQS_SECRET_ACCESS_KEY: string;
    WEBHOOK_RECEIVER_URL: string;
    S3_TEST_PEER: import("./s3-peer-info").S3PeerInfo;
  }
  interface GlobalProps {
    mainModule: typeof import("../../src/index");
    durableNamespaces: "JobObject" | "ProjectObject";
  }
}

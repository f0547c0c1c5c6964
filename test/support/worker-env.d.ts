declare namespace Cloudflare {
  interface Env {
    JOBS: import("../../src/env").Env["JOBS"];
    CIRCUITS: import("../../src/env").Env["CIRCUITS"];
    MODELS?: R2Bucket;
    PROJECTS: import("../../src/env").Env["PROJECTS"];
    UPLOADS: import("../../src/env").Env["UPLOADS"];
    FIXTURES_URL: string;
    FAUXQS_URL: string;
    FAUXQS_CONTROL_URL: string;
    FAUXQS_REGION: string;
    FAUXQS_ACCESS_KEY_ID: string;
    FAUXQS_SECRET_ACCESS_KEY: string;
    WEBHOOK_RECEIVER_URL: string;
    S3_TEST_PEER: import("./s3-peer-info").S3PeerInfo;
    OBJECT_STORE_URL: string;
    FAULT_PROXY_URL: string;
    FAULT_CONTROL_URL: string;
  }
  interface GlobalProps {
    mainModule: typeof import("../../src/index");
    durableNamespaces: "JobObject" | "ProjectObject" | "CircuitObject" | "UploadSessionObject";
  }
}

declare namespace Cloudflare {
  interface Env {
    JOBS: DurableObjectNamespace<import("../../src/index").JobObject>;
    CIRCUITS: DurableObjectNamespace<import("../../src/index").CircuitObject>;
    MODELS?: R2Bucket;
    PROJECTS: DurableObjectNamespace<import("../../src/index").ProjectObject>;
    UPLOADS: DurableObjectNamespace<import("../../src/index").UploadSessionObject>;
    IDEMPOTENCY_KEYS: DurableObjectNamespace<import("../../src/index").IdempotencyKeyObject>;
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
    durableNamespaces: "JobObject" | "ProjectObject" | "CircuitObject" | "UploadSessionObject" | "IdempotencyKeyObject";
  }
}

/** Vite's raw imports (the README, read by the documentation tests). */
declare module "*?raw" {
  const text: string;
  export default text;
}

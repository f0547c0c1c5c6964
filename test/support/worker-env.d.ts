declare namespace Cloudflare {
  interface Env {
    JOBS: import("../../src/env").Env["JOBS"];
    CIRCUITS: import("../../src/env").Env["CIRCUITS"];
    MODELS?: R2Bucket;
    FIXTURES_URL: string;
    OBJECT_STORE_URL: string;
    FAULT_PROXY_URL: string;
    FAULT_CONTROL_URL: string;
  }
  interface GlobalProps {
    mainModule: typeof import("../../src/index");
    durableNamespaces: "JobObject" | "CircuitObject";
  }
}

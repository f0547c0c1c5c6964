declare namespace Cloudflare {
  interface Env {
    JOBS: import("../../src/env").Env["JOBS"];
    MODELS?: R2Bucket;
    FIXTURES_URL: string;
  }
  interface GlobalProps {
    mainModule: typeof import("../../src/index");
    durableNamespaces: "JobObject";
  }
}

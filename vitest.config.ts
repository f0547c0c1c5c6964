import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import { TEST_JWT_SECRET } from "./test/support/constants.ts";

export default defineConfig({
  test: {
    coverage: {
      provider: "istanbul",
      include: ["src/**/*.ts"],
      reporter: ["text-summary", "text"],
      reportOnFailure: true,
      thresholds: { lines: 90 },
    },
    projects: [
      {
        plugins: [
          cloudflareTest(({ inject }) => ({
            wrangler: { configPath: "./wrangler.toml", environment: "test" },
            miniflare: {
              bindings: {
                AUTH_JWT_SECRET: TEST_JWT_SECRET,
                FIXTURES_URL: inject("fixturesUrl"),
                FAUXQS_URL: inject("fauxqsUrl"),
                FAUXQS_CONTROL_URL: inject("fauxqsControlUrl"),
                FAUXQS_REGION: inject("fauxqsRegion"),
                FAUXQS_ACCESS_KEY_ID: inject("fauxqsAccessKeyId"),
                FAUXQS_SECRET_ACCESS_KEY: inject("fauxqsSecretAccessKey"),
                WEBHOOK_RECEIVER_URL: inject("webhookReceiverUrl"),
                // The S3 peer (s3rver behind the SigV4 proxy) for test/integration; the app itself
                // keeps the memory driver unless a test overrides STORAGE_DRIVER.
                S3_TEST_PEER: inject("s3"),
                OBJECT_STORE_URL: inject("objectStoreUrl"),
                FAULT_PROXY_URL: inject("faultProxyUrl"),
                FAULT_CONTROL_URL: inject("faultControlUrl"),
              },
            },
          })),
        ],
        test: {
          name: "workers",
          include: ["test/unit/**/*.test.ts", "test/worker/**/*.test.ts", "test/integration/**/*.test.ts"],
          globalSetup: ["test/setup/global-setup.ts"],
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: "node",
          environment: "node",
          include: ["test/e2e/**/*.test.ts", "test/node/**/*.test.ts", "test/browser/**/*.test.ts"],
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});

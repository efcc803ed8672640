import path from "node:path";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import { buildDashboard } from "./scripts/build-dashboard.mjs";
import { TEST_SECRETS } from "./test/test-secrets.ts";

export default defineConfig(async () => {
  // The Worker imports the dashboard's built assets: every project needs them, a fresh clone included.
  await buildDashboard();
  const migrations = await readD1Migrations(path.join(import.meta.dirname, "migrations"));
  return {
    test: {
      // Every request writes its JSON log line (and wrangler dev talks): show output only for a test that failed.
      silent: "passed-only",
      projects: [
        {
          test: { name: "unit", include: ["test/unit/**/*.test.ts"], environment: "node" },
        },
        {
          plugins: [
            cloudflareTest({
              wrangler: { configPath: "./wrangler.toml" },
              // Explicit values, so a developer's .dev.vars (read via wrangler.toml) cannot change the tests.
              // First attempts go through the queue here, so the delivery suites can drive the consumer
              // step by step; test/integration/delivery-inline*.test.ts turn inline attempts on per call.
              // Usage counts are written after each request, so no test waits for (or races) a flush timer.
              miniflare: {
                bindings: {
                  ...TEST_SECRETS,
                  ALLOW_INSECURE_URLS: "false",
                  FIRST_ATTEMPT: "queue",
                  USAGE_FLUSH_SECONDS: "0",
                  TEST_MIGRATIONS: migrations,
                },
              },
            }),
          ],
          test: {
            name: "integration",
            include: ["test/integration/**/*.test.ts"],
            setupFiles: ["./test/integration/apply-migrations.ts"],
            // Workers, D1 and objects share a 2-core CI machine with the other test file: a safety net, not a speed goal.
            testTimeout: 15_000,
          },
        },
        {
          test: {
            name: "e2e",
            include: ["test/e2e/**/*.test.ts"],
            environment: "node",
            globalSetup: ["./test/e2e/global-setup.ts"],
            testTimeout: 60_000,
            hookTimeout: 120_000,
            fileParallelism: false,
          },
        },
      ],
    },
  };
});

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { TestProject } from "vitest/node";
import { applyLocalMigrations, startWranglerDev, throwawaySecrets } from "../../scripts/local-env.mjs";

declare module "vitest" {
  export interface ProvidedContext {
    baseUrl: string;
    adminToken: string;
    gatewaySecret: string;
    /** The instance's local state (its D1 among it), for a test that must write a row the API no longer accepts. */
    persistTo: string;
  }
}

/**
 * Starts one `wrangler dev` on 127.0.0.1 with a throwaway state directory and
 * fresh secrets for the whole e2e run, as a customer's deployment would be.
 */
export default async function setup(project: TestProject) {
  const persistTo = mkdtempSync(path.join(tmpdir(), "hookgate-e2e-"));
  const secrets = throwawaySecrets();
  applyLocalMigrations({ persistTo, quiet: true });
  const server = await startWranglerDev({
    persistTo,
    vars: { ...secrets, ALLOW_INSECURE_URLS: "true", RETRY_SCHEDULE: "1,2,3,4", DELIVERY_TIMEOUT_MS: "1500" },
  });
  project.provide("baseUrl", server.url);
  project.provide("adminToken", secrets.ADMIN_TOKEN);
  project.provide("gatewaySecret", secrets.GATEWAY_SECRET);
  project.provide("persistTo", persistTo);
  return async () => {
    await server.stop();
    rmSync(persistTo, { recursive: true, force: true });
  };
}

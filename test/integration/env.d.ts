import type { D1Migration } from "cloudflare:test";

// The Worker's bindings come from worker-configuration.d.ts (`wrangler types`); the tests add their own.
declare global {
  namespace Cloudflare {
    interface Env {
      TEST_MIGRATIONS: D1Migration[];
    }
  }
}

import type { Config, Env } from "../env";
import type { Principal } from "../auth/principal";

/** Hono environment shared by every route: bindings and per-request variables. */
export type AppEnv = {
  Bindings: Env;
  Variables: {
    requestId: string;
    config: Config;
    /** Set by `requireCredential` on tenant routes. */
    principal: Principal;
  };
};

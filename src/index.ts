import { createApp } from "./app";
import type { Env } from "./env";

export { CredentialLimiter } from "./ratelimit/credential-limiter";

const app = createApp();

export default {
  fetch: app.fetch,
} satisfies ExportedHandler<Env>;

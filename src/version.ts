import pkg from "../package.json";

/** Reported by /health and sent as `User-Agent: Hookgate/<version>` on deliveries. */
export const VERSION: string = pkg.version;

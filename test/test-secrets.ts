/** Secrets the Worker gets in tests; used by the Vitest config and the suites. Never used outside tests. */
export const TEST_SECRETS = {
  ADMIN_TOKEN: "test-admin-token-0123456789abcdef",
  TOKEN_SIGNING_KEY: "test-token-signing-key-0123456789abcdef0123",
  SECRETS_KEY: "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
  GATEWAY_SECRET: "test-gateway-secret-0123456789abcdef0123456789",
};

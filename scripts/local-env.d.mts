export const ROOT: string;
export function wranglerBin(): string;
export function childEnv(extra?: Record<string, string>): NodeJS.ProcessEnv;
export function ensureDevVars(file?: string): Record<string, string>;
export function parseVars(text: string): Record<string, string>;
export function throwawaySecrets(): { ADMIN_TOKEN: string; TOKEN_SIGNING_KEY: string; SECRETS_KEY: string; GATEWAY_SECRET: string };
export function applyLocalMigrations(opts?: { persistTo?: string; quiet?: boolean }): string[];
export function migrationsApplied(output: string): string[];
export function migrationsLine(applied: string[]): string;
export function freePort(): Promise<number>;
export function startWranglerDev(opts: {
  persistTo: string;
  vars: Record<string, string>;
  port?: number;
  timeoutMs?: number;
  config?: string;
}): Promise<{ url: string; port: number; stop: () => Promise<void>; kill: () => Promise<void>; logs: () => string }>;

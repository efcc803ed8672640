export type AssetSize = { name: string; bytes: number; gzipBytes: number };
export function buildAssets(): Promise<{ module: string; sizes: AssetSize[] }>;
export function buildDashboard(options?: { quiet?: boolean }): Promise<AssetSize[]>;

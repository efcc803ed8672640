export const DIST: string;
export function buildTools(options?: { quiet?: boolean; declarations?: boolean }): Promise<void>;

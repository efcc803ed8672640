export const SCHEMA_FILE: string;
export function fetchDocument(baseUrl: string): Promise<unknown>;
export function fetchServedDocument(): Promise<unknown>;
export function renderSchema(document: unknown): Promise<string>;
/** null when the checked-in schema matches `document`, else a message saying to run `npm run generate:client`. */
export function checkSchema(document: unknown): Promise<string | null>;

/** Runs a promise after the response has gone (a request's `ctx.waitUntil`). */
export type Background = (work: Promise<unknown>) => void;

/**
 * An in-isolate cache of values read from storage (D1), each served for
 * `ttlMs` counted from the start of its read, and read again in the
 * background from `refreshMs` on by the first caller that can run work after
 * its response (`background`). Under steady traffic a hot entry is then never
 * awaited on the request path, and a change made elsewhere still arrives
 * within `ttlMs`. `undefined` (not found) is never kept. `delete` (a change
 * made in this isolate) also voids every read in flight, so none stores a
 * value read before the change.
 */
export class RefreshAheadCache<V> {
  private readonly entries = new Map<string, { value: V; readAt: number; refreshing: boolean }>();
  private generation = 0;

  constructor(
    private readonly refreshMs: number,
    private readonly ttlMs: number,
    private readonly maxEntries: number,
  ) {}

  /** The value while it is fresh enough to serve, without reading anything. */
  get(key: string, now = Date.now()): V | undefined {
    const hit = this.entries.get(key);
    return hit && now - hit.readAt < this.ttlMs ? hit.value : undefined;
  }

  /** The cached value (refreshed ahead in the background when `background` is given), else `read()`'s, awaited. */
  async load(key: string, read: () => Promise<V>, background?: Background): Promise<V> {
    const now = Date.now();
    const hit = this.entries.get(key);
    if (hit && now - hit.readAt < this.ttlMs) {
      if (background && !hit.refreshing && now - hit.readAt >= this.refreshMs) {
        hit.refreshing = true;
        background(
          this.readAndKeep(key, read).catch(() => {
            hit.refreshing = false;
          }),
        );
      }
      return hit.value;
    }
    return this.readAndKeep(key, read);
  }

  private async readAndKeep(key: string, read: () => Promise<V>): Promise<V> {
    const readAt = Date.now();
    const generation = this.generation;
    const value = await read();
    if (generation === this.generation) this.set(key, value, readAt);
    return value;
  }

  /** Keeps `value` as read at `readAt` (a row another read just brought along). */
  set(key: string, value: V, readAt = Date.now()): void {
    if (value === undefined) return;
    this.entries.delete(key);
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(key, { value, readAt, refreshing: false });
  }

  delete(key: string): void {
    this.generation++;
    this.entries.delete(key);
  }

  /** Drops every entry whose value matches (e.g. all keys of one tenant). */
  deleteWhere(match: (value: V) => boolean): void {
    this.generation++;
    for (const [key, { value }] of this.entries) if (match(value)) this.entries.delete(key);
  }
}

/**
 * A small in-isolate cache with a time-to-live and a size bound (oldest
 * entries go first). Isolates are short-lived and not shared, so this only
 * saves repeated reads within one isolate; correctness never depends on it.
 */
export class TtlCache<V> {
  private readonly entries = new Map<string, { value: V; expires: number }>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries: number,
  ) {}

  get(key: string, now = Date.now()): V | undefined {
    const hit = this.entries.get(key);
    if (!hit) return undefined;
    if (hit.expires <= now) {
      this.entries.delete(key);
      return undefined;
    }
    return hit.value;
  }

  set(key: string, value: V, now = Date.now()): void {
    this.entries.delete(key);
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(key, { value, expires: now + this.ttlMs });
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  /** Drops every entry whose value matches (e.g. all keys of one tenant). */
  deleteWhere(match: (value: V) => boolean): void {
    for (const [key, { value }] of this.entries) if (match(value)) this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }
}

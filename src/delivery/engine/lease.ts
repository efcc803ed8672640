/**
 * How long past the delivery timeout a claimed attempt keeps its row from
 * the data shard's repair: a process that dies mid-attempt leaves the row
 * leased this long after the timeout, and the repair then sends it again.
 * Dependency-free, so a test outside the Workers runtime can read it.
 */
export const LEASE_MARGIN_MS = 30_000;

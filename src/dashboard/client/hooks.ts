import { useCallback, useEffect, useState } from "hono/jsx/dom";
import { api, messageOf, type Page, withQuery } from "./api";

export type ListState<T> = {
  items: T[];
  next: string | null;
  loading: boolean;
  error: string | null;
  reload: () => void;
  more: () => void;
};

/** A paged list from the API (`path` null: nothing to load yet); `more` follows `nextCursor`. */
export function useList<T>(path: string | null): ListState<T> {
  const [items, setItems] = useState<T[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const [nonce, setNonce] = useState(0);

  useEffect(() => {
    if (!path) return;
    let live = true;
    setLoading(true);
    api<Page<T>>("GET", path)
      .then((p) => {
        if (!live) return;
        setItems(p.data);
        setNext(p.nextCursor);
        setError(null);
      })
      .catch((e) => live && setError(messageOf(e)))
      .finally(() => live && setLoading(false));
    return () => {
      live = false;
    };
  }, [path, nonce]);

  const more = useCallback(() => {
    if (!path || !next) return;
    setLoading(true);
    api<Page<T>>("GET", withQuery(path, { cursor: next }))
      .then((p) => {
        setItems((old) => [...old, ...p.data]);
        setNext(p.nextCursor);
      })
      .catch((e) => setError(messageOf(e)))
      .finally(() => setLoading(false));
  }, [path, next]);

  return { items, next, loading, error, reload: () => setNonce((n) => n + 1), more };
}

/** Runs an API action, tracking whether it is in flight and its error. */
export function useAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const run = async <T>(fn: () => Promise<T>): Promise<T | undefined> => {
    setBusy(true);
    setError(null);
    try {
      return await fn();
    } catch (e) {
      setError(messageOf(e));
      return undefined;
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, run, setError };
}

/** The hash route (`#/keys`), kept in step with the address bar; other fragments (`#main`) leave it as it is. */
export function useHashRoute(): string {
  const read = () => (location.hash.startsWith("#/") ? location.hash.slice(2) : null);
  const [route, setRoute] = useState(read() ?? "");
  useEffect(() => {
    const onChange = () => {
      const next = read();
      if (next !== null) setRoute(next);
    };
    window.addEventListener("hashchange", onChange);
    return () => window.removeEventListener("hashchange", onChange);
  }, []);
  return route;
}

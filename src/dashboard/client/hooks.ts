import { useCallback, useEffect, useState } from "hono/jsx/dom";
import { messageOf, type Page } from "./api";

export type ListState<T> = {
  items: T[];
  next: string | null;
  loading: boolean;
  error: string | null;
  reload: () => void;
  more: () => void;
};

/** Loads one page of a list: the first (no cursor) or the one after `cursor`. */
export type PageLoader<T> = (cursor: string | undefined) => Promise<Page<T>>;

/**
 * A paged list from the API; `more` follows `nextCursor`. `key` names what is listed (it changes
 * when the filters do; null: nothing to load yet), `load` fetches a page of it.
 */
export function useList<T>(key: string | null, load: PageLoader<T>): ListState<T> {
  const path = key;
  const [items, setItems] = useState<T[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const [nonce, setNonce] = useState(0);

  useEffect(() => {
    if (!path) return;
    let live = true;
    setLoading(true);
    load(undefined)
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
    load(next)
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

import { useCallback, useEffect, useRef, useState } from "react";
import { ApiError, errorMessage } from "../api/client";

export interface Loaded<T> {
  data: T | undefined;
  error: string | null;
  loading: boolean;
  reload: () => Promise<void>;
  setData: (data: T) => void;
}

/** Loads data when `deps` change; `reload()` refreshes it without blanking the screen. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): Loaded<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const generation = useRef(0);
  const loader = useRef(load);
  loader.current = load;

  const reload = useCallback(async () => {
    const mine = ++generation.current;
    try {
      const value = await loader.current();
      if (mine === generation.current) {
        setData(value);
        setError(null);
      }
    } catch (e) {
      if (mine === generation.current && !(e instanceof ApiError && e.status === 401)) {
        setError(errorMessage(e));
      }
    } finally {
      if (mine === generation.current) setLoading(false);
    }
  }, []);

  // a load still under way when the deps change (or the component goes) must not land
  const forget = useCallback(() => {
    generation.current++;
  }, []);

  useEffect(() => {
    setLoading(true);
    setData(undefined);
    setError(null);
    void reload();
    return forget;
    // the caller's deps: this hook is generic over what its loader reads
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, deps);

  return { data, error, loading, reload, setData };
}

/** Runs an action, tracking whether it is busy and the error it raised. */
export function useAction<A extends unknown[], R>(action: (...args: A) => Promise<R>) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const run = useCallback(
    async (...args: A): Promise<R | undefined> => {
      setBusy(true);
      setError(null);
      try {
        return await action(...args);
      } catch (e) {
        setError(errorMessage(e));
        return undefined;
      } finally {
        setBusy(false);
      }
    },
    [action],
  );
  return { run, busy, error, setError };
}

/** Calls `tick` every `ms` while `active`. */
export function useInterval(tick: () => void, ms: number, active: boolean) {
  const saved = useRef(tick);
  saved.current = tick;
  useEffect(() => {
    if (!active) return;
    const id = window.setInterval(() => saved.current(), ms);
    return () => window.clearInterval(id);
  }, [ms, active]);
}

export function useTitle(title: string) {
  useEffect(() => {
    document.title = `${title} · Dashboard`;
  }, [title]);
}

/**
 * While `active`, asks before the page is left: a reload or closed tab (beforeunload) and a click
 * on a link inside the dashboard. The router here is a plain BrowserRouter, which has no blocker
 * (useBlocker needs a data router), so links are caught in the capture phase before React Router's
 * own handler sees the click.
 */
export function useLeaveWarning(active: boolean, message: string) {
  useEffect(() => {
    if (!active) return;
    const onBeforeUnload = (e: BeforeUnloadEvent) => {
      e.preventDefault();
      e.returnValue = ""; // older Chromium asks only when returnValue is set
    };
    const onClick = (e: MouseEvent) => {
      if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
      const link = (e.target as Element | null)?.closest?.("a[href]");
      if (!(link instanceof HTMLAnchorElement) || (link.target && link.target !== "_self")) return;
      const to = new URL(link.href, location.href);
      if (to.origin !== location.origin || to.pathname + to.search === location.pathname + location.search) return;
      if (!window.confirm(message)) {
        e.preventDefault();
        e.stopPropagation();
      }
    };
    window.addEventListener("beforeunload", onBeforeUnload);
    window.addEventListener("click", onClick, true);
    return () => {
      window.removeEventListener("beforeunload", onBeforeUnload);
      window.removeEventListener("click", onClick, true);
    };
  }, [active, message]);
}

/**
 * The secret of an emailed link, from its fragment (`#token=…`): browsers never send a fragment
 * to a server, so it stays out of every log. It is taken off the address bar once read.
 */
export function useLinkToken(): string {
  const [token] = useState(() => new URLSearchParams(window.location.hash.slice(1)).get("token") ?? "");
  useEffect(() => {
    if (window.location.hash) history.replaceState(history.state, "", window.location.pathname);
  }, []);
  return token;
}

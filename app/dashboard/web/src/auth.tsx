import { createContext, useCallback, useContext, useEffect, useMemo, useState } from "react";
import type { ReactNode } from "react";
import { api, call, onUnauthorized, tokenExpiry, tokenStore, type Me } from "./api/client";
import { may, type Action } from "./lib/roles";

export const EXPIRED = "Your session has expired. Please sign in again.";

interface Auth {
  me: Me | null;
  /** True while a stored token is being checked at start-up. */
  checking: boolean;
  /** A message for the sign-in page (why the user was signed out). */
  notice: string | null;
  signIn: (email: string, password: string) => Promise<void>;
  signUp: (email: string, password: string, company: string) => Promise<void>;
  /** Accepts an emailed invitation with the password chosen, and signs in as the new user. */
  acceptInvitation: (token: string, password: string) => Promise<void>;
  signOut: (notice?: string) => void;
  can: (action: Action) => boolean;
  /** Signs in with a token the API handed out (a password reset). */
  startSession: (token: string) => Promise<void>;
  /** Reads the signed-in user again (their address was just confirmed). */
  refresh: () => Promise<void>;
}

const AuthContext = createContext<Auth | null>(null);

export function AuthProvider({ children }: { children: ReactNode }) {
  const [me, setMe] = useState<Me | null>(null);
  const [checking, setChecking] = useState(() => tokenStore.get() !== null);
  const [notice, setNotice] = useState<string | null>(null);

  const signOut = useCallback((message?: string) => {
    tokenStore.clear();
    setMe(null);
    setChecking(false);
    setNotice(message ?? null);
  }, []);

  const start = useCallback(
    async (token: string) => {
      tokenStore.set(token);
      setNotice(null);
      const user = await call(api.GET("/auth/me"));
      setMe(user);
    },
    [],
  );

  useEffect(() => {
    onUnauthorized(() => signOut(EXPIRED));
    const token = tokenStore.get();
    if (!token) return;
    const exp = tokenExpiry(token);
    if (exp !== null && exp * 1000 <= Date.now()) {
      signOut(EXPIRED);
      return;
    }
    start(token)
      .catch(() => signOut(EXPIRED))
      .finally(() => setChecking(false));
  }, [signOut, start]);

  // Leave as soon as the token runs out, not at the next click.
  useEffect(() => {
    const token = me && tokenStore.get();
    const exp = token && tokenExpiry(token);
    if (!exp) return;
    const id = window.setTimeout(() => signOut(EXPIRED), Math.max(0, exp * 1000 - Date.now()));
    return () => window.clearTimeout(id);
  }, [me, signOut]);

  const value = useMemo<Auth>(
    () => ({
      me,
      checking,
      notice,
      signOut,
      startSession: start,
      async refresh() {
        setMe(await call(api.GET("/auth/me")));
      },
      async signIn(email, password) {
        const token = await call(api.POST("/auth/login", { body: { email, password } }));
        await start(token.access_token);
      },
      async signUp(email, password, company) {
        const token = await call(
          api.POST("/auth/register", { body: { email, password, customer_name: company } }),
        );
        await start(token.access_token);
      },
      async acceptInvitation(token, password) {
        const session = await call(api.POST("/auth/invitations/accept", { body: { token, password } }));
        await start(session.access_token);
      },
      can(action) {
        return me !== null && may(me.role, action);
      },
    }),
    [me, checking, notice, signOut, start],
  );
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): Auth {
  const auth = useContext(AuthContext);
  if (!auth) throw new Error("useAuth outside AuthProvider");
  return auth;
}

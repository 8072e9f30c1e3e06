import { useState } from "react";
import type { FormEvent, ReactNode } from "react";
import { Link, Navigate, useLocation } from "react-router";
import { errorMessage } from "../api/client";
import { useAuth } from "../auth";
import { useTitle } from "../lib/hooks";
import { Button, ErrorNote, Field, Note } from "../ui";

function AuthPage({ title, children, footer }: { title: string; children: ReactNode; footer: ReactNode }) {
  useTitle(title);
  return (
    <main className="auth-screen">
      <div className="auth-card">
        <p className="brand">
          <span className="brand-mark" aria-hidden="true">
            ◆
          </span>{" "}
          RAG Chatbots
        </p>
        <h1>{title}</h1>
        {children}
        <p className="auth-footer">{footer}</p>
      </div>
    </main>
  );
}

function useAfterSignIn(): string {
  const state = useLocation().state as { from?: string } | null;
  return state?.from && state.from !== "/signin" ? state.from : "/chatbots";
}

export function SignIn() {
  const { me, signIn, notice } = useAuth();
  const target = useAfterSignIn();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  if (me) return <Navigate to={target} replace />;

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await signIn(email, password);
    } catch (err) {
      setError(errorMessage(err));
      setBusy(false);
    }
  }

  return (
    <AuthPage
      title="Sign in"
      footer={
        <>
          New here? <Link to="/signup">Create an account</Link>
        </>
      }
    >
      {notice && <Note tone="warning">{notice}</Note>}
      <form onSubmit={submit} className="stack">
        <Field label="Email" type="email" autoComplete="email" required value={email} onChange={(e) => setEmail(e.target.value)} />
        <Field
          label="Password"
          type="password"
          autoComplete="current-password"
          required
          value={password}
          onChange={(e) => setPassword(e.target.value)}
        />
        <ErrorNote>{error}</ErrorNote>
        <Button type="submit" variant="primary" busy={busy}>
          Sign in
        </Button>
      </form>
    </AuthPage>
  );
}

export function SignUp() {
  const { me, signUp } = useAuth();
  const [company, setCompany] = useState("");
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  if (me) return <Navigate to="/chatbots" replace />;

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await signUp(email, password, company);
    } catch (err) {
      setError(errorMessage(err));
      setBusy(false);
    }
  }

  return (
    <AuthPage
      title="Create your account"
      footer={
        <>
          Already have an account? <Link to="/signin">Sign in</Link>
        </>
      }
    >
      <form onSubmit={submit} className="stack">
        <Field
          label="Company name"
          autoComplete="organization"
          required
          value={company}
          onChange={(e) => setCompany(e.target.value)}
        />
        <Field label="Work email" type="email" autoComplete="email" required value={email} onChange={(e) => setEmail(e.target.value)} />
        <Field
          label="Password"
          type="password"
          autoComplete="new-password"
          required
          minLength={8}
          hint="At least 8 characters."
          value={password}
          onChange={(e) => setPassword(e.target.value)}
        />
        <ErrorNote>{error}</ErrorNote>
        <Button type="submit" variant="primary" busy={busy}>
          Create account
        </Button>
      </form>
    </AuthPage>
  );
}

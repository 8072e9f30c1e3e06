import { useState } from "react";
import type { FormEvent, ReactNode } from "react";
import { Link, Navigate, useLocation } from "react-router";
import { useAuth } from "../auth";
import { useAction, useTitle } from "../lib/hooks";
import { Brand, Button, ErrorNote, Field, Note } from "../ui";

export function AuthPage({ title, children, footer }: { title: string; children: ReactNode; footer: ReactNode }) {
  useTitle(title);
  return (
    <main className="auth-screen">
      <div className="auth-card">
        <p>
          <Brand />
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
  const { run, busy, error } = useAction(() => signIn(email, password));
  if (me) return <Navigate to={target} replace />;

  function submit(e: FormEvent) {
    e.preventDefault();
    void run();
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
        <p className="forgot">
          <Link to="/forgot-password">Forgot your password?</Link>
        </p>
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
  const { run, busy, error } = useAction(() => signUp(email, password, company));
  if (me) return <Navigate to="/chatbots" replace />;

  function submit(e: FormEvent) {
    e.preventDefault();
    void run();
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

import { useEffect, useRef, useState } from "react";
import type { FormEvent } from "react";
import { Link, useNavigate } from "react-router";
import { api, call, errorMessage } from "../api/client";
import { useAuth } from "../auth";
import { ChoosePassword } from "../components/ChoosePassword";
import { useAction, useLinkToken } from "../lib/hooks";
import { Button, ErrorNote, Field, Loading, Note } from "../ui";
import { AuthPage } from "./Auth";

const BACK_TO_SIGN_IN = (
  <>
    Remembered it? <Link to="/signin">Sign in</Link>
  </>
);

export function ForgotPassword() {
  const [email, setEmail] = useState("");
  const [sent, setSent] = useState<string | null>(null);
  const ask = useAction(async () => {
    const answer = await call(api.POST("/auth/password/forgot", { body: { email } }));
    setSent(answer.message);
  });

  function submit(e: FormEvent) {
    e.preventDefault();
    void ask.run();
  }

  return (
    <AuthPage title="Reset your password" footer={BACK_TO_SIGN_IN}>
      {sent ? (
        <Note tone="success">
          {sent}. Open it within 30 minutes; if nothing arrives, check your spam folder or try again.
        </Note>
      ) : (
        <form onSubmit={submit} className="stack">
          <p>Enter the address you sign in with, and we will email you a link to choose a new password.</p>
          <Field
            label="Email"
            type="email"
            autoComplete="email"
            required
            value={email}
            onChange={(e) => setEmail(e.target.value)}
          />
          <ErrorNote>{ask.error}</ErrorNote>
          <Button type="submit" variant="primary" busy={ask.busy}>
            Email me a link
          </Button>
        </form>
      )}
    </AuthPage>
  );
}

export function ResetPassword() {
  const token = useLinkToken();
  const { startSession } = useAuth();
  const navigate = useNavigate();
  const reset = useAction(async (password: string) => {
    const session = await call(api.POST("/auth/password/reset", { body: { token, password } }));
    await startSession(session.access_token);
    navigate("/chatbots", { replace: true });
  });

  if (!token) {
    return (
      <AuthPage title="Choose a new password" footer={BACK_TO_SIGN_IN}>
        <Note tone="warning">
          This page needs the whole link from the password reset email.{" "}
          <Link to="/forgot-password">Ask for a new link</Link>.
        </Note>
      </AuthPage>
    );
  }
  return (
    <AuthPage title="Choose a new password" footer={BACK_TO_SIGN_IN}>
      <p>Choosing a new password signs you out on every other device.</p>
      <ChoosePassword
        submit="Set password and sign in"
        busy={reset.busy}
        error={
          reset.error && (
            <>
              {reset.error} {/not valid/.test(reset.error) && <Link to="/forgot-password">Ask for a new link</Link>}
            </>
          )
        }
        onChoose={(password) => void reset.run(password)}
      />
    </AuthPage>
  );
}

type Verification = { state: "checking" } | { state: "done"; email: string } | { state: "failed"; error: string };

export function VerifyEmail() {
  const token = useLinkToken();
  const { me, checking, refresh } = useAuth();
  const [result, setResult] = useState<Verification>({ state: "checking" });
  const asked = useRef(false);

  useEffect(() => {
    // a link works once: it is posted once, whatever React does with effects
    if (asked.current) return;
    asked.current = true;
    if (!token) {
      setResult({ state: "failed", error: "This page needs the whole link from the verification email." });
      return;
    }
    call(api.POST("/auth/verify-email", { body: { token } }))
      .then((verified) => setResult({ state: "done", email: verified.email }))
      .catch((e) => setResult({ state: "failed", error: errorMessage(e) }));
  }, [token]);

  useEffect(() => {
    if (result.state === "done" && me) void refresh();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [result.state, me?.id]);

  const footer = me ? <Link to="/chatbots">Go to your chatbots</Link> : <Link to="/signin">Sign in</Link>;
  if (result.state === "checking" || checking) {
    return (
      <AuthPage title="Confirm your address" footer={null}>
        <Loading label="Confirming your address…" />
      </AuthPage>
    );
  }
  if (result.state === "done") {
    return (
      <AuthPage title="Address confirmed" footer={footer}>
        <Note tone="success">
          Thank you: <strong>{result.email}</strong> is confirmed.
        </Note>
      </AuthPage>
    );
  }
  return (
    <AuthPage title="This link cannot be used" footer={footer}>
      <ErrorNote>{result.error}</ErrorNote>
      {me && !me.email_verified ? (
        <ResendLink />
      ) : (
        !me && <p>Sign in to ask for a new link.</p>
      )}
    </AuthPage>
  );
}

/** Sends the signed-in user a new verification link, saying what happened. */
export function ResendLink({ label = "Send a new link" }: { label?: string }) {
  const [sent, setSent] = useState<string | null>(null);
  const resend = useAction(async () => {
    const answer = await call(api.POST("/auth/verify-email/resend"));
    setSent(answer.message);
  });
  return (
    <span className="resend">
      <Button onClick={() => void resend.run()} busy={resend.busy}>
        {label}
      </Button>
      {sent && <span role="status">{sent}.</span>}
      {resend.error && <span role="alert">{resend.error}</span>}
    </span>
  );
}

/** Shown in the signed-in layout while the account's address is not confirmed. */
export function VerifyBanner() {
  const { me } = useAuth();
  if (!me || me.email_verified || me.customer.verified) return null;
  return (
    <div className="verify-banner" role="status">
      <p>
        Confirm your address: we sent a link to <strong>{me.email}</strong>.
        {me.role === "owner" && " Until then your chatbots' widget is not published and secret keys answer a few questions only."}
      </p>
      <ResendLink label="Send it again" />
    </div>
  );
}

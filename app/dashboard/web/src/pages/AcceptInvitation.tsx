import { useState } from "react";
import type { FormEvent } from "react";
import { Link, useNavigate } from "react-router";
import { ApiError, api, call, type Schemas } from "../api/client";
import { useAuth } from "../auth";
import { formatDate } from "../lib/format";
import { useAction, useLoad } from "../lib/hooks";
import { Button, ErrorNote, Field, Loading, Note } from "../ui";
import { AuthPage } from "./Auth";

type Offer = Schemas["InvitationPreview"];
/** The invitation the link offers, or why the link does not work (the API's error code). */
type Opened = { offer: Offer } | { refused: string; message: string };

const NO_TOKEN = "This link has no invitation in it. Open the whole link from the invitation email.";
const HEADINGS: Record<string, string> = {
  invitation_used: "This invitation was already accepted",
  invitation_expired: "This invitation has expired",
  invitation_revoked: "This invitation was withdrawn",
  invitation_invalid: "This invitation link does not work",
};

/** The token is in the link's fragment (`#token=…`), which the browser never sends to a server. */
function tokenFromLink(): string {
  return new URLSearchParams(window.location.hash.slice(1)).get("token") ?? "";
}

async function open(token: string): Promise<Opened> {
  if (!token) return { refused: "invitation_invalid", message: NO_TOKEN };
  try {
    return { offer: await call(api.POST("/auth/invitations/inspect", { body: { token } })) };
  } catch (e) {
    if (e instanceof ApiError && e.status === 400) return { refused: e.code, message: e.message };
    throw e;
  }
}

const signInInstead = (
  <>
    Already have an account? <Link to="/signin">Sign in</Link>
  </>
);

export function AcceptInvitation() {
  const [token] = useState(tokenFromLink);
  const opened = useLoad(() => open(token), [token]);
  const result = opened.data;
  if (opened.loading) {
    return (
      <AuthPage title="Join a team" footer={null}>
        <Loading label="Opening the invitation…" />
      </AuthPage>
    );
  }
  if (!result || "refused" in result) {
    const title = (result && HEADINGS[result.refused]) || "This invitation cannot be opened";
    return (
      <AuthPage title={title} footer={signInInstead}>
        <Note tone="warning">{result ? result.message : opened.error}</Note>
      </AuthPage>
    );
  }
  const { offer } = result;
  return (
    <AuthPage title={`Join ${offer.customer_name} as ${offer.role === "admin" ? "an admin" : "a member"}`} footer={signInInstead}>
      <p>
        Choose a password for <strong>{offer.email}</strong>. The invitation expires {formatDate(offer.expires_at)}.
      </p>
      <ChoosePassword token={token} email={offer.email} />
    </AuthPage>
  );
}

function ChoosePassword({ token, email }: { token: string; email: string }) {
  const { acceptInvitation } = useAuth();
  const navigate = useNavigate();
  const [password, setPassword] = useState("");
  const [confirm, setConfirm] = useState("");
  const [mismatch, setMismatch] = useState(false);
  const accept = useAction(async () => {
    await acceptInvitation(token, password);
    navigate("/chatbots", { replace: true });
  });

  function submit(e: FormEvent) {
    e.preventDefault();
    setMismatch(password !== confirm);
    if (password === confirm) void accept.run();
  }

  return (
    <form onSubmit={submit} className="stack">
      {/* for password managers: the account the new password belongs to */}
      <input type="email" name="username" autoComplete="username" value={email} readOnly hidden />
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
      <Field
        label="Confirm password"
        type="password"
        autoComplete="new-password"
        required
        error={mismatch ? "The two passwords differ." : undefined}
        value={confirm}
        onChange={(e) => setConfirm(e.target.value)}
      />
      <ErrorNote>{accept.error}</ErrorNote>
      <Button type="submit" variant="primary" busy={accept.busy}>
        Join and sign in
      </Button>
    </form>
  );
}

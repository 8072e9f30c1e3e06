import { Link, useNavigate } from "react-router";
import { ApiError, api, call, type Schemas } from "../api/client";
import { useAuth } from "../auth";
import { formatDate } from "../lib/format";
import { ROLE_NOUN } from "../lib/roles";
import { ChoosePassword } from "../components/ChoosePassword";
import { useAction, useLinkToken, useLoad } from "../lib/hooks";
import { Loading, Note } from "../ui";
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
  const token = useLinkToken();
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
    <AuthPage title={`Join ${offer.customer_name} as ${ROLE_NOUN[offer.role]}`} footer={signInInstead}>
      <p>
        Choose a password for <strong>{offer.email}</strong>. The invitation expires {formatDate(offer.expires_at)}.
      </p>
      <JoinForm token={token} email={offer.email} />
    </AuthPage>
  );
}

function JoinForm({ token, email }: { token: string; email: string }) {
  const { acceptInvitation } = useAuth();
  const navigate = useNavigate();
  const accept = useAction(async (password: string) => {
    await acceptInvitation(token, password);
    navigate("/chatbots", { replace: true });
  });
  return (
    <ChoosePassword
      username={email}
      submit="Join and sign in"
      busy={accept.busy}
      error={accept.error}
      onChoose={(password) => void accept.run(password)}
    />
  );
}

import { useState } from "react";
import type { FormEvent } from "react";
import { Navigate } from "react-router";
import { ApiError, api, call, type Schemas } from "../api/client";
import { useAuth } from "../auth";
import { formatDate } from "../lib/format";
import { INVITED_ROLES, ROLE_NOUN, outranks, type InvitedRole, type Role } from "../lib/roles";
import { useAction, useLoad, useTitle } from "../lib/hooks";
import { Badge, Button, Card, ConfirmDialog, ErrorNote, Field, Loading, PageHeader } from "../ui";

type User = Schemas["UserOut"];
type Invitation = Schemas["InvitationOut"];

export function Team() {
  const { me, can } = useAuth();
  if (!can("team") || !me) return <Navigate to="/chatbots" replace />;
  return <TeamScreen me={me} />;
}

function TeamScreen({ me }: { me: Schemas["MeOut"] }) {
  useTitle("Team");
  const users = useLoad(() => call(api.GET("/api/users")), []);
  const [removing, setRemoving] = useState<User | null>(null);
  const remove = useAction(async (user: User) => {
    await call(api.DELETE("/api/users/{user_id}", { params: { path: { user_id: user.id } } }));
    setRemoving(null);
    await users.reload();
  });
  const [changed, setChanged] = useState<string | null>(null);
  const [invited, setInvited] = useState(0);
  const changeRole = useAction(async (user: User, role: InvitedRole) => {
    setChanged(null);
    try {
      await call(api.PATCH("/api/users/{user_id}", { params: { path: { user_id: user.id } }, body: { role } }));
      setChanged(`${user.email} is now ${ROLE_NOUN[role]}.`);
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) throw new Error(`${user.email} is no longer in this account.`);
      throw e;
    } finally {
      await users.reload();
    }
  });
  // What the API allows: nobody removes themselves or an owner; only owners remove admins.
  const removable = (u: User) => u.id !== me.id && outranks(me.role, u.role);
  // and only owners change roles (between member and admin), never their own or an owner's
  const promotable = (u: User) => me.role === "owner" && u.id !== me.id && outranks(me.role, u.role);

  return (
    <>
      <PageHeader title="Team" description="Who can sign in to this account, and what each may do." />
      <Card title="People">
        <ErrorNote>{users.error}</ErrorNote>
        {users.loading ? (
          <Loading label="Loading the team…" />
        ) : (
          <ul className="people" aria-label="People">
            {users.data?.map((u) => (
              <li key={u.id} aria-label={u.email}>
                <div>
                  <span className="person">{u.email}</span>
                  {u.id === me.id && <span className="meta"> (you)</span>}
                  <p className="meta">Added {formatDate(u.created_at)}</p>
                </div>
                <Badge tone={u.role}>{u.role}</Badge>
                <div className="row person-actions">
                  {promotable(u) && (
                    <Button
                      className="btn-small"
                      busy={changeRole.busy}
                      onClick={() => void changeRole.run(u, u.role === "admin" ? "member" : "admin")}
                      aria-label={`${u.role === "admin" ? "Make member" : "Make admin"}: ${u.email}`}
                    >
                      {u.role === "admin" ? "Make member" : "Make admin"}
                    </Button>
                  )}
                  {removable(u) && (
                    <Button className="btn-small" variant="danger" onClick={() => setRemoving(u)} aria-label={`Remove ${u.email}`}>
                      Remove
                    </Button>
                  )}
                </div>
              </li>
            ))}
          </ul>
        )}
        <ErrorNote>{changeRole.error}</ErrorNote>
        {changed && (
          <p className="note note-success" role="status">
            {changed}
          </p>
        )}
      </Card>
      <InvitePerson myRole={me.role} onInvited={() => setInvited((n) => n + 1)} />
      <PendingInvitations myRole={me.role} version={invited} />
      <ConfirmDialog
        open={removing !== null}
        title={`Remove ${removing?.email}?`}
        confirmLabel="Remove"
        busy={remove.busy}
        error={remove.error}
        onConfirm={() => removing && void remove.run(removing)}
        onCancel={() => setRemoving(null)}
      >
        <p>They can no longer sign in. Their conversations in the playground stay.</p>
      </ConfirmDialog>
    </>
  );
}

/** Invitations sent and not yet accepted, revoked or expired; `version` changes after an invite. */
function PendingInvitations({ myRole, version }: { myRole: Role; version: number }) {
  const invitations = useLoad(() => call(api.GET("/api/users/invitations")), [version]);
  const [revoking, setRevoking] = useState<Invitation | null>(null);
  const revoke = useAction(async (invitation: Invitation) => {
    try {
      await call(api.DELETE("/api/users/invitations/{invitation_id}", { params: { path: { invitation_id: invitation.id } } }));
    } catch (e) {
      // revoked by someone else meanwhile, or accepted: the list below shows which
      if (!(e instanceof ApiError && e.status === 404)) throw e;
    } finally {
      await invitations.reload();
    }
    setRevoking(null);
  });
  // admins invite members only, and so revoke members' invitations only
  const revocable = (i: Invitation) => outranks(myRole, i.role);
  return (
    <Card title="Pending invitations">
      <ErrorNote>{invitations.error}</ErrorNote>
      {invitations.loading ? (
        <Loading label="Loading the invitations…" />
      ) : invitations.data?.length ? (
        <ul className="people" aria-label="Pending invitations">
          {invitations.data.map((i) => (
            <li key={i.id} aria-label={i.email}>
              <div>
                <span className="person">{i.email}</span>
                <p className="meta">
                  Invited {formatDate(i.created_at)}
                  {i.invited_by && ` by ${i.invited_by}`} · expires {formatDate(i.expires_at)}
                </p>
              </div>
              <Badge tone={i.role}>{i.role}</Badge>
              <div className="row person-actions">
                {revocable(i) && (
                  <Button className="btn-small" variant="danger" onClick={() => setRevoking(i)} aria-label={`Revoke the invitation of ${i.email}`}>
                    Revoke
                  </Button>
                )}
              </div>
            </li>
          ))}
        </ul>
      ) : (
        <p className="meta">No invitations waiting to be accepted.</p>
      )}
      <ConfirmDialog
        open={revoking !== null}
        title={`Revoke the invitation of ${revoking?.email}?`}
        confirmLabel="Revoke"
        busy={revoke.busy}
        error={revoke.error}
        onConfirm={() => revoking && void revoke.run(revoking)}
        onCancel={() => setRevoking(null)}
      >
        <p>The link in their email stops working. You can invite them again later.</p>
      </ConfirmDialog>
    </Card>
  );
}

function InvitePerson({ myRole, onInvited }: { myRole: Role; onInvited: () => void }) {
  const [email, setEmail] = useState("");
  const [role, setRole] = useState<InvitedRole>("member");
  const [sent, setSent] = useState<string | null>(null);
  const invite = useAction(async () => {
    const invitation = await call(api.POST("/api/users/invitations", { body: { email, role } }));
    setSent(invitation.email);
    setEmail("");
    onInvited();
  });
  function submit(e: FormEvent) {
    e.preventDefault();
    setSent(null);
    void invite.run();
  }
  const roles = (Object.keys(INVITED_ROLES) as InvitedRole[]).filter((r) => outranks(myRole, r));
  return (
    <Card title="Invite a person">
      <form className="stack" onSubmit={submit}>
        <Field
          label="Email"
          type="email"
          required
          autoComplete="off"
          hint="They get a link, valid 7 days, to choose their own password."
          value={email}
          onChange={(e) => setEmail(e.target.value)}
        />
        <fieldset className="radio-group">
          <legend>Role</legend>
          {roles.map((r) => (
            <label key={r}>
              <input type="radio" name="role" value={r} checked={role === r} onChange={() => setRole(r)} /> {INVITED_ROLES[r]}
            </label>
          ))}
        </fieldset>
        <ErrorNote>{invite.error}</ErrorNote>
        {sent && (
          <p className="note note-success" role="status">
            Invitation sent to {sent}.
          </p>
        )}
        <div className="row">
          <Button type="submit" variant="primary" busy={invite.busy}>
            Send invitation
          </Button>
        </div>
      </form>
    </Card>
  );
}

import { useState } from "react";
import type { FormEvent } from "react";
import { Navigate } from "react-router";
import { ApiError, api, call, type Schemas } from "../api/client";
import { useAuth } from "../auth";
import { formatDate } from "../lib/format";
import { useAction, useLoad, useTitle } from "../lib/hooks";
import { Badge, Button, Card, ConfirmDialog, ErrorNote, Field, Loading, PageHeader } from "../ui";

type User = Schemas["UserOut"];

const ROLE_TEXT = {
  admin: "Admin: manages chatbots, documents, keys and members.",
  member: "Member: uses the playground and reads conversations, analytics and usage.",
} as const;

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
  const changeRole = useAction(async (user: User, role: "admin" | "member") => {
    setChanged(null);
    try {
      await call(api.PATCH("/api/users/{user_id}", { params: { path: { user_id: user.id } }, body: { role } }));
      setChanged(`${user.email} is now ${role === "admin" ? "an admin" : "a member"}.`);
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) throw new Error(`${user.email} is no longer in this account.`);
      throw e;
    } finally {
      await users.reload();
    }
  });
  // What the API allows: nobody removes themselves or an owner; only owners remove admins.
  const removable = (u: User) => u.id !== me.id && u.role !== "owner" && (u.role === "member" || me.role === "owner");
  // and only owners change roles (between member and admin), never their own or an owner's
  const promotable = (u: User) => me.role === "owner" && u.id !== me.id && u.role !== "owner";

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
      <AddPerson isOwner={me.role === "owner"} onAdded={() => void users.reload()} />
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

function AddPerson({ isOwner, onAdded }: { isOwner: boolean; onAdded: () => void }) {
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [role, setRole] = useState<"member" | "admin">("member");
  const [added, setAdded] = useState<string | null>(null);
  const add = useAction(async () => {
    await call(api.POST("/api/users", { body: { email, password, role } }));
    setAdded(email);
    setEmail("");
    setPassword("");
    onAdded();
  });
  function submit(e: FormEvent) {
    e.preventDefault();
    setAdded(null);
    void add.run();
  }
  const roles = isOwner ? (["member", "admin"] as const) : (["member"] as const);
  return (
    <Card title="Add a person">
      <form className="stack" onSubmit={submit}>
        <div className="grid-2">
          <Field label="Email" type="email" required autoComplete="off" value={email} onChange={(e) => setEmail(e.target.value)} />
          <Field
            label="Password"
            type="password"
            required
            minLength={8}
            autoComplete="new-password"
            hint="At least 8 characters; pass it on to them privately."
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        </div>
        <fieldset className="radio-group">
          <legend>Role</legend>
          {roles.map((r) => (
            <label key={r}>
              <input type="radio" name="role" value={r} checked={role === r} onChange={() => setRole(r)} /> {ROLE_TEXT[r]}
            </label>
          ))}
        </fieldset>
        <ErrorNote>{add.error}</ErrorNote>
        {added && (
          <p className="note note-success" role="status">
            {added} can now sign in.
          </p>
        )}
        <div className="row">
          <Button type="submit" variant="primary" busy={add.busy}>
            Add person
          </Button>
        </div>
      </form>
    </Card>
  );
}

import { useState } from "react";
import type { FormEvent } from "react";
import { api, authHeaders, call, NETWORK_ERROR, toApiError, type Me, type Schemas } from "../api/client";
import { useAuth } from "../auth";
import { formatBytes, formatDate } from "../lib/format";
import { useAction, useLoad, useTitle } from "../lib/hooks";
import { Badge, Button, Card, ConfirmDialog, ErrorNote, Field, Loading, Note, PageHeader, TableWrap } from "../ui";

type Email = Schemas["EmailOut"];

export const ACCOUNT_DELETED = "Your account and all of its data were deleted. Issued invoices are kept, as the law requires.";

export function Account() {
  const { me, can } = useAuth();
  useTitle("Account");
  if (!me) return null;
  if (!can("account")) {
    return (
      <>
        <PageHeader title="Account" />
        <Note tone="warning">
          This page is for owners only: only an owner of {me.customer.name} can export its data or delete the account.
          Ask an owner if you need either.
        </Note>
      </>
    );
  }
  return (
    <>
      <PageHeader title="Account" description={`Your data in ${me.customer.name}: take a copy of it, or delete it.`} />
      <ExportCard />
      <EmailsCard />
      <DeleteCard me={me} />
    </>
  );
}

function filenameOf(response: Response): string {
  const disposition = response.headers.get("Content-Disposition") ?? "";
  return /filename="([^"]+)"/.exec(disposition)?.[1] ?? "account-export.zip";
}

/** The export needs the JWT, so it is fetched and handed to the browser as an object URL. */
async function download(onProgress: (text: string) => void) {
  onProgress("Preparing your export… Accounts with many files take a while.");
  const response = await fetch("/api/account/export", { headers: authHeaders() }).catch(() => {
    throw new Error(NETWORK_ERROR);
  });
  if (!response.ok) throw toApiError(response, await response.json().catch(() => null));
  onProgress("Downloading your export…");
  const blob = await response.blob();
  const name = filenameOf(response);
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  window.setTimeout(() => URL.revokeObjectURL(url), 60_000);
  onProgress(`Your export is downloaded: ${name} (${formatBytes(blob.size)}).`);
}

const EMAIL_KINDS: Record<Email["kind"], string> = {
  password_reset: "Password reset",
  email_verification: "Address verification",
  invitation: "Invitation",
  allowance_alert: "Allowance alert",
};
const EMAIL_STATUSES: Record<Email["status"], { tone: string; label: string }> = {
  pending: { tone: "queued", label: "Retrying" },
  sent: { tone: "ready", label: "Sent" },
  failed: { tone: "failed", label: "Failed" },
};

function deliveryOf(email: Email): string {
  const tries = `${email.attempts} ${email.attempts === 1 ? "try" : "tries"}`;
  switch (email.status) {
    case "sent":
      return `sent ${formatDate(email.sent_at)}`;
    case "failed":
      return `${tries}, given up: ${email.last_error ?? "no reason given"}`;
    case "pending":
      if (!email.attempts) return "waiting to be sent";
      return `${tries}, next ${formatDate(email.next_attempt_at)}: ${email.last_error ?? ""}`;
    default:
      throw new Error(`Unknown email status ${email.status satisfies never}`);
  }
}

/** What the account's emails were and how their delivery went (never their text, which may
 * hold a link meant for one person only). */
function EmailsCard() {
  const emails = useLoad(() => call(api.GET("/api/emails")), []);
  return (
    <Card title="Emails sent" actions={<Button className="btn-small" onClick={() => void emails.reload()}>Refresh</Button>}>
      <p className="meta">
        The last 100 emails this account sent: invitations, password resets, address confirmations and allowance
        alerts. One the mail server refused is tried again, later each time, and given up after a few hours.
      </p>
      <ErrorNote>{emails.error}</ErrorNote>
      {emails.loading ? (
        <Loading label="Loading the emails…" />
      ) : emails.data?.length ? (
        <TableWrap label="Each email and its delivery">
          <table>
            <thead>
              <tr>
                <th scope="col">Email</th>
                <th scope="col">To</th>
                <th scope="col">Queued</th>
                <th scope="col">Status</th>
              </tr>
            </thead>
            <tbody>
              {emails.data.map((email) => (
                <tr key={email.id}>
                  <td>
                    {EMAIL_KINDS[email.kind]}
                    <p className="meta">{email.subject}</p>
                  </td>
                  <td>{email.to_address}</td>
                  <td>{formatDate(email.created_at)}</td>
                  <td>
                    <Badge tone={EMAIL_STATUSES[email.status].tone}>{EMAIL_STATUSES[email.status].label}</Badge>
                    <p className="meta">{deliveryOf(email)}</p>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableWrap>
      ) : (
        <p className="meta">No email sent yet.</p>
      )}
    </Card>
  );
}

function ExportCard() {
  const [progress, setProgress] = useState<string | null>(null);
  const exporting = useAction(async () => {
    try {
      await download(setProgress);
    } catch (e) {
      setProgress(null);
      throw e;
    }
  });
  return (
    <Card title="Export your data">
      <p>
        One ZIP file with everything the account holds: its details and people, chatbots and their settings, every
        document with its original file, websites, conversations with their ratings, usage and invoices. API keys are
        listed by their prefix only; passwords and secret keys are never stored, so they are not in it.
      </p>
      <Button variant="primary" busy={exporting.busy} onClick={() => void exporting.run()}>
        Export your data
      </Button>
      <p className="hint" role="status" aria-live="polite">
        {progress}
      </p>
      <ErrorNote>{exporting.error}</ErrorNote>
    </Card>
  );
}

function DeleteCard({ me }: { me: Me }) {
  const { signOut } = useAuth();
  const name = me.customer.name;
  const [password, setPassword] = useState("");
  const [confirm, setConfirm] = useState("");
  const [confirmError, setConfirmError] = useState<string | null>(null);
  const [asking, setAsking] = useState(false);
  const remove = useAction(async () => {
    await call(api.DELETE("/api/account", { body: { password, confirm } }));
    signOut(ACCOUNT_DELETED);
  });

  function submit(e: FormEvent) {
    e.preventDefault();
    if (confirm.trim() !== name) {
      setConfirmError(`Type ${name} exactly as it is written here.`);
      return;
    }
    setConfirmError(null);
    remove.setError(null);
    setAsking(true);
  }

  return (
    <section className="card danger-zone" aria-labelledby="delete-account">
      <h2 id="delete-account">Delete this account</h2>
      <p>Deleting {name} removes, for good and for everyone in it:</p>
      <ul>
        <li>its people and their sign-ins (everyone is signed out at once);</li>
        <li>its chatbots, their API keys and widgets (they stop answering on your websites);</li>
        <li>its documents, their files and search index, and its websites;</li>
        <li>its conversations, ratings and usage; this month's draft invoice.</li>
      </ul>
      <p>
        <strong>Issued invoices are kept.</strong> Tax law requires us to keep the invoices we issued for several years,
        so they stay with the billing details they were issued with, no longer linked to any account. Export your data
        first if you want a copy of the rest.
      </p>
      <form onSubmit={submit} className="stack" noValidate>
        <Field
          label="Your password"
          type="password"
          autoComplete="current-password"
          required
          value={password}
          onChange={(e) => setPassword(e.target.value)}
        />
        <Field
          label={`Type the account's name, ${name}, to confirm`}
          autoComplete="off"
          spellCheck={false}
          required
          value={confirm}
          error={confirmError}
          onChange={(e) => setConfirm(e.target.value)}
        />
        <div>
          <Button type="submit" variant="danger" disabled={!password}>
            Delete this account
          </Button>
        </div>
      </form>
      <ConfirmDialog
        open={asking}
        title={`Delete ${name} for good?`}
        confirmLabel="Delete the account"
        busy={remove.busy}
        error={remove.error}
        onConfirm={() => void remove.run()}
        onCancel={() => setAsking(false)}
      >
        <p>
          Everything listed on this page is deleted at once and cannot be brought back. Issued invoices are kept, as the
          law requires.
        </p>
      </ConfirmDialog>
    </section>
  );
}

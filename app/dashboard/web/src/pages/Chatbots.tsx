import { useState } from "react";
import type { FormEvent } from "react";
import { Link, useNavigate } from "react-router";
import { api, call, type Chatbot, type Schemas } from "../api/client";
import { useAuth } from "../auth";
import { formatDate } from "../lib/format";
import { useAction, useLoad, useTitle } from "../lib/hooks";
import { Button, ConfirmDialog, Empty, ErrorNote, Field, Loading, PageHeader } from "../ui";
import { KeyReveal } from "./Keys";

export function Chatbots() {
  useTitle("Chatbots");
  const { can } = useAuth();
  const bots = useLoad(() => call(api.GET("/api/chatbots")), []);
  const [creating, setCreating] = useState(false);
  const [created, setCreated] = useState<Schemas["ChatbotCreated"] | null>(null);
  const [renaming, setRenaming] = useState<Chatbot | null>(null);
  const [deleting, setDeleting] = useState<Chatbot | null>(null);
  const navigate = useNavigate();

  const remove = useAction(async (bot: Chatbot) => {
    await call(api.DELETE("/api/chatbots/{chatbot_id}", { params: { path: { chatbot_id: bot.id } } }));
    setDeleting(null);
    await bots.reload();
  });

  return (
    <>
      <PageHeader
        title="Chatbots"
        description="Each chatbot answers from its own documents, with its own keys and settings."
        actions={
          can("manage") && (
            <Button variant="primary" onClick={() => setCreating(true)}>
              New chatbot
            </Button>
          )
        }
      />
      {creating && (
        <CreateChatbot
          onCancel={() => setCreating(false)}
          onCreated={async (bot) => {
            setCreating(false);
            setCreated(bot);
            await bots.reload();
          }}
        />
      )}
      {created && (
        <section className="card card-highlight" aria-labelledby="created-title">
          <h2 id="created-title">“{created.name}” is ready</h2>
          <p>
            Copy the secret key now and keep it somewhere safe: it is shown only once. You can always rotate it
            later from the chatbot's <em>Keys</em> page.
          </p>
          <KeyReveal label="Secret key" value={created.secret_key} />
          <div className="row">
            <Button variant="primary" onClick={() => navigate(`/chatbots/${created.id}/sources`)}>
              Add documents
            </Button>
            <Button onClick={() => setCreated(null)}>I saved the key</Button>
          </div>
        </section>
      )}
      <ErrorNote>{bots.error}</ErrorNote>
      {bots.loading ? (
        <Loading label="Loading chatbots…" />
      ) : bots.data && bots.data.length === 0 ? (
        <Empty
          title="No chatbots yet"
          action={
            can("manage") && !creating ? (
              <Button variant="primary" onClick={() => setCreating(true)}>
                Create your first chatbot
              </Button>
            ) : undefined
          }
        >
          {can("manage")
            ? "Create a chatbot, upload your documents and it answers your customers' questions from them."
            : "An owner or admin of your account can create the first one."}
        </Empty>
      ) : (
        <ul className="bot-list" aria-label="Your chatbots">
          {bots.data?.map((bot) => (
            <li key={bot.id} className="bot-card">
              <div className="bot-card-main">
                <h2>
                  <Link to={`/chatbots/${bot.id}/sources`}>{bot.name}</Link>
                </h2>
                <p className="muted">{bot.description || "No description"}</p>
                <p className="meta">Created {formatDate(bot.created_at)}</p>
              </div>
              {can("manage") && (
                <div className="row">
                  <Button onClick={() => setRenaming(bot)} aria-label={`Rename ${bot.name}`}>
                    Rename
                  </Button>
                  <Button variant="danger" onClick={() => setDeleting(bot)} aria-label={`Delete ${bot.name}`}>
                    Delete
                  </Button>
                </div>
              )}
            </li>
          ))}
        </ul>
      )}
      {renaming && (
        <RenameDialog
          bot={renaming}
          onDone={async () => {
            setRenaming(null);
            await bots.reload();
          }}
        />
      )}
      <ConfirmDialog
        open={deleting !== null}
        title={`Delete “${deleting?.name}”?`}
        confirmLabel="Delete chatbot"
        busy={remove.busy}
        error={remove.error}
        onConfirm={() => deleting && remove.run(deleting)}
        onCancel={() => {
          setDeleting(null);
          remove.setError(null);
        }}
      >
        <p>This deletes for good:</p>
        <ul>
          <li>all its documents and what was learned from them,</li>
          <li>all its conversations,</li>
          <li>its keys: servers and websites using them stop getting answers at once.</li>
        </ul>
        <p>Usage already recorded stays on your invoices. This cannot be undone.</p>
      </ConfirmDialog>
    </>
  );
}

function CreateChatbot({
  onCancel,
  onCreated,
}: {
  onCancel: () => void;
  onCreated: (bot: Schemas["ChatbotCreated"]) => void;
}) {
  const [name, setName] = useState("");
  const [description, setDescription] = useState("");
  const create = useAction(async () => {
    const bot = await call(api.POST("/api/chatbots", { body: { name, description } }));
    onCreated(bot);
  });
  function submit(e: FormEvent) {
    e.preventDefault();
    void create.run();
  }
  return (
    <section className="card" aria-labelledby="new-bot-title">
      <h2 id="new-bot-title">New chatbot</h2>
      <form className="stack" onSubmit={submit}>
        <Field label="Name" required maxLength={200} autoFocus value={name} onChange={(e) => setName(e.target.value)} />
        <Field
          label="Description"
          hint="Optional, for your team: what this chatbot is for."
          maxLength={2000}
          value={description}
          onChange={(e) => setDescription(e.target.value)}
        />
        <ErrorNote>{create.error}</ErrorNote>
        <div className="row">
          <Button type="submit" variant="primary" busy={create.busy}>
            Create chatbot
          </Button>
          <Button onClick={onCancel}>Cancel</Button>
        </div>
      </form>
    </section>
  );
}

function RenameDialog({ bot, onDone }: { bot: Chatbot; onDone: () => void }) {
  const [name, setName] = useState(bot.name);
  const rename = useAction(async () => {
    await call(
      api.PATCH("/api/chatbots/{chatbot_id}", { params: { path: { chatbot_id: bot.id } }, body: { name } }),
    );
    onDone();
  });
  return (
    <ConfirmDialog
      open
      danger={false}
      title={`Rename “${bot.name}”`}
      confirmLabel="Save name"
      busy={rename.busy}
      error={rename.error}
      onConfirm={() => void rename.run()}
      onCancel={onDone}
    >
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void rename.run();
        }}
      >
        <Field label="New name" required maxLength={200} value={name} onChange={(e) => setName(e.target.value)} />
      </form>
    </ConfirmDialog>
  );
}

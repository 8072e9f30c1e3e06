import { useState } from "react";
import { api, call } from "../api/client";
import { useAuth } from "../auth";
import { formatDate } from "../lib/format";
import { useAction, useTitle } from "../lib/hooks";
import { Button, Card, ConfirmDialog, CopyButton, Note, PageHeader } from "../ui";
import { useBot } from "./ChatbotLayout";

export function KeyReveal({ label, value }: { label: string; value: string }) {
  return (
    <div className="key-reveal">
      <span className="key-label">{label}</span>
      <code className="key-value" aria-label={label}>
        {value}
      </code>
      <CopyButton text={value} label="Copy key" />
    </div>
  );
}

const KIND_TEXT = {
  secret: {
    name: "Secret key",
    use: "For your servers: the public query API and the OpenAI-compatible API. Never put it in a web page.",
    warning:
      "The current secret key stops working immediately. Every server or tool using it gets “invalid key” errors until you give it the new key.",
  },
  widget: {
    name: "Widget key",
    use: "Publishable: it sits in the embed snippet on your websites.",
    warning:
      "The current widget key stops working immediately: the chat widget on your websites stops answering until you paste the new snippet from the Embed page.",
  },
} as const;

type Kind = keyof typeof KIND_TEXT;

export function Keys() {
  useTitle("Keys");
  const { bot, reload } = useBot();
  const { can } = useAuth();
  const [confirming, setConfirming] = useState<Kind | null>(null);
  const [revealed, setRevealed] = useState<{ kind: Kind; key: string } | null>(null);
  const rotate = useAction(async (kind: Kind) => {
    const out = await call(
      api.POST("/api/chatbots/{chatbot_id}/rotate_key", {
        params: { path: { chatbot_id: bot.id } },
        body: { kind },
      }),
    );
    setConfirming(null);
    setRevealed({ kind, key: out.key });
    await reload();
  });

  return (
    <>
      <PageHeader
        title="Keys"
        description="Keys let your servers and websites talk to this chatbot. Secret keys are shown only once, when created or rotated."
      />
      {revealed && (
        <section className="card card-highlight" aria-labelledby="new-key-title">
          <h2 id="new-key-title">Your new {KIND_TEXT[revealed.kind].name.toLowerCase()}</h2>
          <p>Copy it now: it will not be shown again.</p>
          <KeyReveal label={`New ${KIND_TEXT[revealed.kind].name.toLowerCase()}`} value={revealed.key} />
          <Button onClick={() => setRevealed(null)}>Done</Button>
        </section>
      )}
      <div className="grid-2">
        {(["secret", "widget"] as const).map((kind) => {
          const key = bot.api_keys.find((k) => k.kind === kind);
          return (
            <Card
              key={kind}
              title={KIND_TEXT[kind].name}
              actions={
                can("manage") && (
                  <Button onClick={() => setConfirming(kind)}>Rotate {KIND_TEXT[kind].name.toLowerCase()}</Button>
                )
              }
            >
              <p className="muted">{KIND_TEXT[kind].use}</p>
              {key ? (
                <dl className="facts">
                  <dt>Starts with</dt>
                  <dd>
                    <code>{key.prefix}…</code>
                  </dd>
                  <dt>Created</dt>
                  <dd>{formatDate(key.created_at)}</dd>
                  <dt>Last used</dt>
                  <dd>{key.last_used_at ? formatDate(key.last_used_at) : "Never"}</dd>
                </dl>
              ) : (
                <p>No active key.</p>
              )}
            </Card>
          );
        })}
      </div>
      {!can("manage") && <Note>Only owners and admins can rotate keys.</Note>}
      <ConfirmDialog
        open={confirming !== null}
        title={`Rotate the ${confirming ? KIND_TEXT[confirming].name.toLowerCase() : ""}?`}
        confirmLabel="Rotate now"
        busy={rotate.busy}
        error={rotate.error}
        onConfirm={() => confirming && void rotate.run(confirming)}
        onCancel={() => setConfirming(null)}
      >
        <p>{confirming && KIND_TEXT[confirming].warning}</p>
      </ConfirmDialog>
    </>
  );
}

import { useState } from "react";
import type { FormEvent } from "react";
import { Link } from "react-router";
import { api, call, type Schemas } from "../api/client";
import { useAuth } from "../auth";
import { useAction, useLoad, useTitle } from "../lib/hooks";
import { Button, Card, CodeBlock, ErrorNote, Field, Loading, Note, PageHeader } from "../ui";
import { useBot } from "./ChatbotLayout";

export function Embed() {
  useTitle("Embed");
  const { bot, setBot } = useBot();
  const { can, me } = useAuth();
  const snippet = useLoad(
    () => call(api.GET("/api/chatbots/{chatbot_id}/snippet", { params: { path: { chatbot_id: bot.id } } })),
    [bot.id, bot.allowed_origins.join(" ")],
  );
  const [site, setSite] = useState("");
  const [checked, setChecked] = useState<Schemas["OriginCheckOut"] | null>(null);
  // the server's own normalisation and list, so this can never disagree with the widget
  const verify = useAction(async () => {
    setChecked(
      await call(
        api.GET("/api/chatbots/{chatbot_id}/origin-check", {
          params: { path: { chatbot_id: bot.id }, query: { url: site } },
        }),
      ),
    );
  });

  function check(e: FormEvent) {
    e.preventDefault();
    setChecked(null);
    void verify.run();
  }

  const allow = useAction(async (origin: string) => {
    const updated = await call(
      api.PATCH("/api/chatbots/{chatbot_id}", {
        params: { path: { chatbot_id: bot.id } },
        body: { allowed_origins: [...bot.allowed_origins, origin] },
      }),
    );
    setBot(updated);
    setChecked({ origin, allowed: true });
  });

  if (snippet.loading) return <Loading label="Loading the snippet…" />;
  if (!snippet.data) return <ErrorNote>{snippet.error}</ErrorNote>;
  const s = snippet.data;
  return (
    <>
      <PageHeader
        title="Embed"
        description="Put the chat widget on your website. The snippet holds only the publishable widget key, never the secret key."
        actions={
          <a className="btn btn-secondary" href={s.demo_url} target="_blank" rel="noreferrer">
            Open the preview page
          </a>
        }
      />
      {me && !me.customer.verified && (
        <Note tone="warning">
          The widget is not published until the account owner confirms their email address with the link we sent
          them: until then it says it isn't enabled on your site. The preview page works meanwhile.
        </Note>
      )}
      {bot.allowed_origins.length === 0 && (
        <Note tone="warning">
          No website is allowed yet: the widget will say it isn't enabled on your site.{" "}
          <Link to="../settings">Add your website in Settings</Link>.
        </Note>
      )}
      <Card title="Script snippet">
        <p className="muted">
          Paste this line just before <code>&lt;/body&gt;</code> on every page where the chat should appear.
        </p>
        <CodeBlock code={s.script} label="Script tag" />
        <details>
          <summary>Pin the script with Subresource Integrity</summary>
          <p className="muted">
            Add <code>integrity="{s.integrity}" crossorigin="anonymous"</code> to the tag. Update it when the widget
            is updated.
          </p>
        </details>
      </Card>
      <Card title="Iframe variant">
        <p className="muted">For sites that do not allow third-party scripts: the chat fills the frame.</p>
        <CodeBlock code={s.iframe} label="Iframe tag" />
      </Card>
      <Card title="Check a website">
        <form className="add-row" onSubmit={check}>
          <Field
            label="Website address"
            required
            placeholder="https://shop.example.com/page"
            value={site}
            onChange={(e) => {
              setSite(e.target.value);
              setChecked(null);
              verify.setError(null);
            }}
          />
          <Button type="submit" busy={verify.busy}>
            Check
          </Button>
        </form>
        {verify.error && (
          <p className="check check-bad" role="status">
            {verify.error}
          </p>
        )}
        {checked &&
          (checked.allowed ? (
            <p className="check check-ok" role="status">
              ✓ The widget answers on <strong>{checked.origin}</strong>.
            </p>
          ) : (
            <div className="check check-bad" role="status">
              <p>
                ✗ <strong>{checked.origin}</strong> is not in the allowed websites: the widget there will say it isn't
                enabled.
              </p>
              {can("manage") ? (
                <Button busy={allow.busy} onClick={() => void allow.run(checked.origin)}>
                  Allow {checked.origin}
                </Button>
              ) : (
                <p>Ask an owner or admin to add it.</p>
              )}
            </div>
          ))}
        <ErrorNote>{allow.error}</ErrorNote>
        {bot.allowed_origins.length > 0 && (
          <p className="meta">Allowed: {bot.allowed_origins.join(", ")}</p>
        )}
      </Card>
    </>
  );
}

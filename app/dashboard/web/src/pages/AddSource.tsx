import { useState } from "react";
import type { FormEvent } from "react";
import { api, call } from "../api/client";
import { useAction } from "../lib/hooks";
import { Button, ErrorNote, Field, TextArea } from "../ui";

type Kind = "website" | "text" | "qa";

const KINDS: { kind: Kind; label: string }[] = [
  { kind: "website", label: "Website" },
  { kind: "text", label: "Text" },
  { kind: "qa", label: "Q&A pair" },
];

/** Adds a source that is not a file: a website to crawl, a text snippet or a question with its
 * answer. The server's reason for a refusal (a private address, a plan limit) shows below. */
export function AddSource({ botId, onAdded }: { botId: string; onAdded: (kind: Kind) => Promise<void> }) {
  const [kind, setKind] = useState<Kind>("website");
  const [url, setUrl] = useState("");
  const [title, setTitle] = useState("");
  const [text, setText] = useState("");
  const [question, setQuestion] = useState("");
  const [answer, setAnswer] = useState("");
  const path = { params: { path: { chatbot_id: botId } } };

  const add = useAction(async () => {
    if (kind === "website") {
      await call(api.POST("/api/chatbots/{chatbot_id}/sources/url", { ...path, body: { url: url.trim() } }));
      setUrl("");
    } else if (kind === "text") {
      await call(api.POST("/api/chatbots/{chatbot_id}/sources/text", { ...path, body: { title, text } }));
      setTitle("");
      setText("");
    } else {
      await call(api.POST("/api/chatbots/{chatbot_id}/sources/qa", { ...path, body: { question, answer } }));
      setQuestion("");
      setAnswer("");
    }
    await onAdded(kind);
  });

  function submit(e: FormEvent) {
    e.preventDefault();
    void add.run();
  }

  return (
    <section className="card add-source" aria-labelledby="add-source-heading">
      <h2 id="add-source-heading">Add a website, a text or a Q&amp;A pair</h2>
      <div className="row" role="group" aria-label="Kind of source">
        {KINDS.map((k) => (
          <Button
            key={k.kind}
            className="btn-small"
            variant={kind === k.kind ? "primary" : "secondary"}
            aria-pressed={kind === k.kind}
            onClick={() => {
              setKind(k.kind);
              add.setError(null);
            }}
          >
            {k.label}
          </Button>
        ))}
      </div>
      <form className="stack" onSubmit={submit} aria-label={`Add a ${KINDS.find((k) => k.kind === kind)!.label}`}>
        {kind === "website" && (
          <Field
            label="Website address"
            type="url"
            required
            maxLength={2048}
            placeholder="https://www.example.com/help"
            hint="A page (the links on the same site are followed) or a sitemap (its pages are read)."
            value={url}
            onChange={(e) => setUrl(e.target.value)}
          />
        )}
        {kind === "text" && (
          <>
            <Field label="Title" required maxLength={255} value={title} onChange={(e) => setTitle(e.target.value)} />
            <TextArea
              label="Text"
              required
              rows={6}
              hint="Answers citing it show its title."
              value={text}
              onChange={(e) => setText(e.target.value)}
            />
          </>
        )}
        {kind === "qa" && (
          <>
            <Field
              label="Question"
              required
              maxLength={1000}
              value={question}
              onChange={(e) => setQuestion(e.target.value)}
            />
            <TextArea
              label="Answer"
              required
              rows={4}
              maxLength={4000}
              hint="Kept as one passage with its question, so it is always quoted whole."
              value={answer}
              onChange={(e) => setAnswer(e.target.value)}
            />
          </>
        )}
        <ErrorNote>{add.error}</ErrorNote>
        <div className="row">
          <Button type="submit" variant="primary" busy={add.busy}>
            {kind === "website" ? "Add website" : kind === "text" ? "Add text" : "Add Q&A pair"}
          </Button>
        </div>
      </form>
    </section>
  );
}

import { useMemo, useState } from "react";
import type { FormEvent } from "react";
import { api, call, type Chatbot, type Schemas } from "../api/client";
import { useAuth } from "../auth";
import { WidgetPreview, type WidgetLook } from "../components/WidgetPreview";
import { useAction, useLeaveWarning, useTitle } from "../lib/hooks";
import { Button, ErrorNote, Field, Note, PageHeader, TextArea } from "../ui";
import { useBot } from "./ChatbotLayout";

const DEFAULT_GREETING = "Hi! Ask me a question and I'll answer from our documents.";
const DEFAULT_ACCENT = "#2563eb";
// The numeric settings, with the bounds the API enforces (ChatbotSettings).
const NUMBER_FIELDS = {
  temperature: { label: "Temperature", min: 0, max: 2, step: 0.1, hint: "0 is precise, 2 is creative." },
  max_tokens: { label: "Max answer tokens", min: 1, max: 8192 },
  top_k: { label: "Passages per answer", min: 1, max: 50, hint: "Top-k: how many passages the model reads." },
  score_threshold: {
    label: "Score threshold",
    min: 0,
    max: 1,
    step: 0.01,
    // as the README's "How retrieval decides" says; 0.85 is CALIBRATIONS' e5 threshold (app/chat/retrieval.py)
    hint:
      "A question is answered only if its best passage is at least this similar to it; otherwise the answer is " +
      "“not found”, with no LLM call. Lower answers more questions, higher refuses more. Empty: the embedding " +
      "model's calibrated value (0.85 for multilingual-e5, the default model).",
  },
  chunk_size: { label: "Chunk size", min: 100, max: 8000, hint: "Characters per passage." },
  chunk_overlap: { label: "Chunk overlap", min: 0, max: 2000 },
} as const;
type NumberField = keyof typeof NUMBER_FIELDS;
const NUMBERS = Object.keys(NUMBER_FIELDS) as NumberField[];

interface Form {
  name: string;
  description: string;
  system_prompt: string;
  llm_model: string;
  numbers: Record<NumberField, string>;
  origins: string[];
  title: string;
  greeting: string;
  starters: string;
  accent: string;
  position: "bottom-right" | "bottom-left";
}

function formOf(bot: Chatbot): Form {
  const s = bot.settings as Schemas["ChatbotSettings"];
  const w = s.widget ?? {};
  return {
    name: bot.name,
    description: bot.description,
    system_prompt: bot.system_prompt,
    llm_model: s.llm_model ?? "",
    numbers: Object.fromEntries(NUMBERS.map((k) => [k, s[k] == null ? "" : String(s[k])])) as Record<
      NumberField,
      string
    >,
    origins: bot.allowed_origins,
    title: w.title ?? "",
    greeting: w.greeting ?? "",
    starters: (w.starter_questions ?? []).join("\n"),
    accent: w.accent_color ?? DEFAULT_ACCENT,
    position: w.position ?? "bottom-right",
  };
}

/** `https://shop.example.com` from whatever was typed, or null when it is not a web address. */
function originOf(text: string): string | null {
  const value = text.trim();
  if (!value) return null;
  try {
    const url = new URL(/^https?:\/\//i.test(value) ? value : `https://${value}`);
    const host = /^(\[[0-9a-f:.]+\]|[a-z0-9-]+(\.[a-z0-9-]+)*)$/i.test(url.hostname);
    return host && (url.protocol === "http:" || url.protocol === "https:") ? url.origin : null;
  } catch {
    return null;
  }
}

export function Settings() {
  useTitle("Settings");
  const { bot, setBot } = useBot();
  const { can } = useAuth();
  const [form, setForm] = useState<Form>(() => formOf(bot));
  const [saved, setSaved] = useState(false);
  const [newOrigin, setNewOrigin] = useState("");
  const [originError, setOriginError] = useState<string | null>(null);
  const [edited, setEdited] = useState(false);
  const readOnly = !can("manage");
  // Allowed websites stay part of the form, saved with the rest, rather than saved on "Add
  // website": the rest of the form works that way, and saving one field alone would also save
  // a half-typed prompt or threshold. What a newcomer lost silently is asked about instead:
  // leaving with unsaved changes, or with an address typed but not added, needs a confirmation.
  useLeaveWarning(
    !readOnly && (edited || newOrigin.trim() !== ""),
    "Settings has unsaved changes, allowed websites included. Leave without saving them?",
  );

  const change = <K extends keyof Form>(key: K, value: Form[K]) => {
    setSaved(false);
    setEdited(true);
    setForm((f) => ({ ...f, [key]: value }));
  };
  const setNumber = (key: NumberField, value: string) => change("numbers", { ...form.numbers, [key]: value });
  const numberField = (key: NumberField) => {
    const { label, ...bounds } = NUMBER_FIELDS[key];
    return (
      <Field
        label={label}
        type="number"
        placeholder={key === "score_threshold" ? "Default (calibrated)" : "Default"}
        {...bounds}
        value={form.numbers[key]}
        onChange={(e) => setNumber(key, e.target.value)}
      />
    );
  };

  const look: WidgetLook = useMemo(
    () => ({
      title: form.title || form.name || bot.name,
      greeting: form.greeting || DEFAULT_GREETING,
      starter_questions: form.starters.split("\n").map((q) => q.trim()).filter(Boolean),
      accent_color: /^#[0-9a-f]{6}$/i.test(form.accent) ? form.accent : DEFAULT_ACCENT,
      position: form.position,
    }),
    [form, bot.name],
  );

  const save = useAction(async () => {
    const num = (k: NumberField) => (form.numbers[k].trim() === "" ? null : Number(form.numbers[k]));
    const updated = await call(
      api.PATCH("/api/chatbots/{chatbot_id}", {
        params: { path: { chatbot_id: bot.id } },
        body: {
          name: form.name,
          description: form.description,
          system_prompt: form.system_prompt,
          allowed_origins: form.origins,
          settings: {
            llm_model: form.llm_model.trim() || null,
            temperature: num("temperature"),
            max_tokens: num("max_tokens"),
            top_k: num("top_k"),
            score_threshold: num("score_threshold"),
            chunk_size: num("chunk_size"),
            chunk_overlap: num("chunk_overlap"),
            widget: {
              title: form.title.trim() || null,
              greeting: form.greeting.trim() || null,
              starter_questions: look.starter_questions,
              accent_color: look.accent_color,
              position: form.position,
            },
          },
        },
      }),
    );
    setBot(updated);
    setSaved(true);
    setEdited(false);
  });

  function addOrigin() {
    const origin = originOf(newOrigin);
    if (!origin) {
      setOriginError("Enter a website address such as https://shop.example.com");
      return;
    }
    setOriginError(null);
    if (!form.origins.includes(origin)) change("origins", [...form.origins, origin].sort());
    setNewOrigin("");
  }

  function submit(e: FormEvent) {
    e.preventDefault();
    void save.run();
  }

  return (
    <form onSubmit={submit} className="settings">
      <PageHeader
        title="Settings"
        description="How this chatbot answers, what it searches and how its widget looks. Changes apply to the next question."
        actions={
          !readOnly && (
            <Button type="submit" variant="primary" busy={save.busy}>
              Save changes
            </Button>
          )
        }
      />
      {readOnly && <Note>Only owners and admins can change settings.</Note>}
      <ErrorNote>{save.error}</ErrorNote>
      {saved && <Note tone="success">Settings saved.</Note>}
      <fieldset disabled={readOnly} className="settings-body">
        <section className="card">
          <h2>General</h2>
          <div className="stack">
            <Field label="Name" required maxLength={200} value={form.name} onChange={(e) => change("name", e.target.value)} />
            <Field
              label="Description"
              maxLength={2000}
              value={form.description}
              onChange={(e) => change("description", e.target.value)}
            />
          </div>
        </section>
        <section className="card">
          <h2>Answers</h2>
          <div className="stack">
            <TextArea
              label="System prompt"
              hint="Instructions the model follows for every answer: tone, language, what to refuse."
              maxLength={8000}
              value={form.system_prompt}
              onChange={(e) => change("system_prompt", e.target.value)}
            />
            <div className="grid-3">
              <Field
                label="Model"
                placeholder="Server default"
                hint="The LLM's model id; empty uses the server's default."
                value={form.llm_model}
                onChange={(e) => change("llm_model", e.target.value)}
              />
              {numberField("temperature")}
              {numberField("max_tokens")}
            </div>
          </div>
        </section>
        <section className="card">
          <h2>Retrieval and chunking</h2>
          <div className="grid-3">
            {numberField("top_k")}
            {numberField("score_threshold")}
            {numberField("chunk_size")}
            {numberField("chunk_overlap")}
          </div>
          <p className="hint">Chunking applies to documents uploaded or reindexed after saving.</p>
        </section>
        <section className="card" aria-labelledby="origins-title">
          <h2 id="origins-title">Allowed websites</h2>
          <p className="muted">The widget answers only on these sites. Add each site's address (scheme, host and port).</p>
          {form.origins.length === 0 ? (
            <p className="empty-inline">No websites yet: the widget works only on its preview page.</p>
          ) : (
            <ul className="origin-list" aria-label="Allowed websites">
              {form.origins.map((origin) => (
                <li key={origin}>
                  <code>{origin}</code>
                  {!readOnly && (
                    <Button
                      className="btn-small"
                      variant="ghost"
                      aria-label={`Remove ${origin}`}
                      onClick={() => change("origins", form.origins.filter((o) => o !== origin))}
                    >
                      Remove
                    </Button>
                  )}
                </li>
              ))}
            </ul>
          )}
          {!readOnly && (
            <div className="add-row">
              <Field
                label="Add a website"
                placeholder="https://shop.example.com"
                value={newOrigin}
                error={originError}
                onChange={(e) => setNewOrigin(e.target.value)}
                onKeyDown={(e) => {
                  if (e.key === "Enter") {
                    e.preventDefault();
                    addOrigin();
                  }
                }}
              />
              <Button onClick={addOrigin}>Add website</Button>
            </div>
          )}
        </section>
        <section className="card" aria-labelledby="look-title">
          <h2 id="look-title">Widget look</h2>
          <div className="look">
            <div className="stack">
              <Field
                label="Title"
                maxLength={80}
                placeholder={form.name || bot.name}
                value={form.title}
                onChange={(e) => change("title", e.target.value)}
              />
              <TextArea
                label="Greeting"
                maxLength={500}
                placeholder={DEFAULT_GREETING}
                rows={2}
                value={form.greeting}
                onChange={(e) => change("greeting", e.target.value)}
              />
              <TextArea
                label="Starter questions"
                hint="One per line, up to 6."
                rows={3}
                value={form.starters}
                onChange={(e) => change("starters", e.target.value)}
              />
              <div className="row">
                <Field
                  label="Accent colour"
                  type="color"
                  value={look.accent_color}
                  onChange={(e) => change("accent", e.target.value)}
                />
                <fieldset className="radio-group">
                  <legend>Position</legend>
                  {(["bottom-right", "bottom-left"] as const).map((p) => (
                    <label key={p}>
                      <input
                        type="radio"
                        name="position"
                        value={p}
                        checked={form.position === p}
                        onChange={() => change("position", p)}
                      />{" "}
                      {p === "bottom-right" ? "Bottom right" : "Bottom left"}
                    </label>
                  ))}
                </fieldset>
              </div>
            </div>
            <WidgetPreview look={look} />
          </div>
        </section>
      </fieldset>
      {!readOnly && (
        <div className="row sticky-save">
          <Button type="submit" variant="primary" busy={save.busy}>
            Save changes
          </Button>
          {saved && <span className="muted">Saved</span>}
        </div>
      )}
    </form>
  );
}

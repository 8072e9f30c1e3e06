import { useRef, useState } from "react";
import type { DragEvent } from "react";
import { api, call, errorMessage, type Document, type Schemas } from "../api/client";
import { useAuth } from "../auth";
import { formatBytes, formatDate, pluralize } from "../lib/format";
import { useAction, useInterval, useLoad, useTitle } from "../lib/hooks";
import { DOCUMENT_STATUS } from "../lib/states";
import { uploadFile } from "../lib/upload";
import { Badge, Button, ConfirmDialog, Empty, ErrorNote, Field, Loading, Note, PageHeader, TextArea } from "../ui";
import { AddSource } from "./AddSource";
import { useBot } from "./ChatbotLayout";
import { Websites, crawling } from "./Websites";

// ingestion/loaders.py's SUFFIXES (tests/dashboard/test_sources.py keeps them the same)
const ACCEPT = ".pdf,.docx,.txt,.text,.md,.markdown,.html,.htm,.csv,.tsv,.rst";
const CONCURRENT_UPLOADS = 2;

interface Upload {
  key: number;
  name: string;
  size: number;
  progress: number;
  error: string | null;
}

export function Sources() {
  useTitle("Sources");
  const { bot } = useBot();
  const { can } = useAuth();
  const docs = useLoad(
    () => call(api.GET("/api/chatbots/{chatbot_id}/documents", { params: { path: { chatbot_id: bot.id } } })),
    [bot.id],
  );
  const sites = useLoad(
    () => call(api.GET("/api/chatbots/{chatbot_id}/sources/url", { params: { path: { chatbot_id: bot.id } } })),
    [bot.id],
  );
  const [uploads, setUploads] = useState<Upload[]>([]);
  const [dragging, setDragging] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);
  const [deleting, setDeleting] = useState<Document | null>(null);
  const [reindexingAll, setReindexingAll] = useState(false);
  const picker = useRef<HTMLInputElement>(null);
  const nextKey = useRef(0);

  const working = docs.data?.some((d) => DOCUMENT_STATUS[d.status].working) ?? false;
  useInterval(() => void docs.reload(), 1000, working || uploads.some((u) => !u.error));
  useInterval(() => void sites.reload(), 1000, sites.data?.some(crawling) ?? false);

  function patch(key: number, change: Partial<Upload>) {
    setUploads((all) => all.map((u) => (u.key === key ? { ...u, ...change } : u)));
  }

  async function addFiles(files: File[]) {
    if (!files.length) return;
    setNotice(null);
    const batch = files.map((file) => ({ key: nextKey.current++, file }));
    setUploads((all) => [
      ...all,
      ...batch.map(({ key, file }) => ({ key, name: file.name, size: file.size, progress: 0, error: null })),
    ]);
    const queue = [...batch];
    const duplicates: string[] = [];
    async function worker() {
      for (let item = queue.shift(); item; item = queue.shift()) {
        const { key, file } = item;
        try {
          const doc = await uploadFile(bot.id, file, (progress) => patch(key, { progress }));
          if (doc.duplicate) duplicates.push(file.name);
          setUploads((all) => all.filter((u) => u.key !== key));
          await docs.reload();
        } catch (e) {
          patch(key, { error: errorMessage(e) });
        }
      }
    }
    await Promise.all(Array.from({ length: CONCURRENT_UPLOADS }, worker));
    if (duplicates.length) {
      setNotice(`Already uploaded, kept as it is: ${duplicates.join(", ")}.`);
    }
  }

  function onDrop(e: DragEvent) {
    e.preventDefault();
    setDragging(false);
    if (can("manage")) void addFiles(Array.from(e.dataTransfer.files));
  }

  const remove = useAction(async (doc: Document) => {
    await call(api.DELETE("/api/documents/{document_id}", { params: { path: { document_id: doc.id } } }));
    setDeleting(null);
    await docs.reload();
  });
  const reindex = useAction(async (doc: Document) => {
    await call(api.POST("/api/documents/{document_id}/reindex", { params: { path: { document_id: doc.id } } }));
    await docs.reload();
  });
  const reindexAll = useAction(async () => {
    await call(api.POST("/api/chatbots/{chatbot_id}/reindex", { params: { path: { chatbot_id: bot.id } } }));
    setReindexingAll(false);
    await docs.reload();
  });

  // a website's pages are listed under the website, not one by one among the documents
  const list = (docs.data ?? []).filter((d) => d.origin !== "web");
  const ready = list.filter((d) => d.status === "ready");
  return (
    <>
      <PageHeader
        title="Sources"
        description="The documents, websites, texts and Q&A pairs this chatbot answers from. Each is split into passages, which are searched for every question."
        actions={
          can("manage") &&
          list.length > 0 && <Button onClick={() => setReindexingAll(true)}>Reindex all</Button>
        }
      />
      {can("manage") ? (
        <div
          className={`dropzone ${dragging ? "dragging" : ""}`}
          onDragOver={(e) => {
            e.preventDefault();
            setDragging(true);
          }}
          onDragLeave={() => setDragging(false)}
          onDrop={onDrop}
          data-testid="dropzone"
        >
          <p className="dropzone-title">Drop files here to upload</p>
          <p className="muted">PDF, Word (.docx), text, Markdown, reStructuredText, HTML or CSV. Several at once is fine.</p>
          <Button variant="primary" onClick={() => picker.current?.click()}>
            Choose files
          </Button>
          <input
            ref={picker}
            type="file"
            multiple
            accept={ACCEPT}
            className="visually-hidden"
            tabIndex={-1}
            aria-label="Files to upload"
            onChange={(e) => {
              void addFiles(Array.from(e.target.files ?? []));
              e.target.value = "";
            }}
          />
        </div>
      ) : (
        <Note>Only owners and admins can add, edit or remove sources.</Note>
      )}
      {can("manage") && (
        <AddSource
          botId={bot.id}
          onAdded={async (kind) => {
            await (kind === "website" ? sites.reload() : docs.reload());
          }}
        />
      )}
      {notice && <Note>{notice}</Note>}
      {uploads.length > 0 && (
        <ul className="doc-list" aria-label="Uploads">
          {uploads.map((u) => (
            <li key={u.key} className="doc-row" aria-label={u.name}>
              <div className="doc-main">
                <span className="doc-name">{u.name}</span>
                <span className="meta">{formatBytes(u.size)}</span>
              </div>
              {u.error ? (
                <div className="doc-status">
                  <Badge tone="failed">Rejected</Badge>
                  <p className="doc-error">{u.error}</p>
                  <Button
                    className="btn-small"
                    onClick={() => setUploads((all) => all.filter((x) => x.key !== u.key))}
                    aria-label={`Dismiss ${u.name}`}
                  >
                    Dismiss
                  </Button>
                </div>
              ) : (
                <div className="doc-status">
                  <Badge tone="uploading">Uploading</Badge>
                  <progress max={1} value={u.progress} aria-label={`Uploading ${u.name}`} />
                </div>
              )}
            </li>
          ))}
        </ul>
      )}
      <ErrorNote>{sites.error}</ErrorNote>
      <Websites
        sites={sites.data ?? []}
        manage={can("manage")}
        onChange={async () => {
          await Promise.all([sites.reload(), docs.reload()]);
        }}
      />
      <ErrorNote>{docs.error}</ErrorNote>
      {docs.loading ? (
        <Loading label="Loading documents…" />
      ) : list.length === 0 && uploads.length === 0 && !sites.data?.length ? (
        <Empty title="No documents yet">
          Upload the documents your customers ask about: manuals, policies, FAQs, price lists.
        </Empty>
      ) : (
        list.length > 0 && (
          <section aria-labelledby="doc-heading">
            <h2 id="doc-heading" className="section-title">
              {pluralize(list.length, "document")} · {ready.length} ready
            </h2>
            <ul className="doc-list" aria-label="Documents">
              {list.map((doc) => (
                <DocumentRow
                  key={doc.id}
                  doc={doc}
                  manage={can("manage")}
                  onDelete={() => setDeleting(doc)}
                  onReindex={() => void reindex.run(doc)}
                  onEdited={() => docs.reload()}
                />
              ))}
            </ul>
            <ErrorNote>{reindex.error}</ErrorNote>
          </section>
        )
      )}
      <ConfirmDialog
        open={deleting !== null}
        title={`Delete “${deleting?.filename}”?`}
        confirmLabel="Delete document"
        busy={remove.busy}
        error={remove.error}
        onConfirm={() => deleting && void remove.run(deleting)}
        onCancel={() => setDeleting(null)}
      >
        <p>
          {deleting?.origin === "upload" ? "The file and its" : "Its"} passages are removed: the chatbot stops
          answering from it at once.
        </p>
      </ConfirmDialog>
      <ConfirmDialog
        open={reindexingAll}
        danger={false}
        title="Reindex every document?"
        confirmLabel="Reindex all"
        busy={reindexAll.busy}
        error={reindexAll.error}
        onConfirm={() => void reindexAll.run()}
        onCancel={() => setReindexingAll(false)}
      >
        <p>
          Every document is split and embedded again with the current chunking settings. Answers may miss
          documents until they are ready again.
        </p>
      </ConfirmDialog>
    </>
  );
}

function DocumentRow({
  doc,
  manage,
  onDelete,
  onReindex,
  onEdited,
}: {
  doc: Document;
  manage: boolean;
  onDelete: () => void;
  onReindex: () => void;
  onEdited: () => Promise<void>;
}) {
  const [open, setOpen] = useState(false);
  const [editing, setEditing] = useState(false);
  const editable = doc.origin === "text" || doc.origin === "qa";
  const busy = DOCUMENT_STATUS[doc.status].working;
  return (
    <li className="doc-row" aria-label={doc.filename}>
      <div className="doc-main">
        <button
          type="button"
          className="doc-name link-button"
          aria-expanded={open}
          onClick={() => setOpen((o) => !o)}
        >
          {doc.filename}
        </button>
        <span className="meta">
          {ORIGIN_LABEL[doc.origin] ?? doc.kind.toUpperCase()} · {formatBytes(doc.size_bytes)} · added{" "}
          {formatDate(doc.created_at)}
        </span>
      </div>
      <div className="doc-status">
        <Badge tone={DOCUMENT_STATUS[doc.status].tone}>{DOCUMENT_STATUS[doc.status].label}</Badge>
        {doc.status === "processing" && (
          <>
            <progress
              max={Math.max(doc.chunks_total, 1)}
              value={doc.chunks_done}
              aria-label={`Processing ${doc.filename}`}
            />
            <span className="meta">
              {doc.chunks_total ? `${doc.chunks_done} / ${doc.chunks_total} passages` : "Reading…"}
            </span>
          </>
        )}
        {doc.status === "ready" && <span className="meta">{pluralize(doc.chunk_count, "passage")}</span>}
        {doc.status === "failed" && <p className="doc-error">{doc.error || "The document could not be read."}</p>}
      </div>
      {manage && (
        <div className="row doc-actions">
          <Button className="btn-small" disabled={busy} onClick={onReindex} aria-label={`Reindex ${doc.filename}`}>
            Reindex
          </Button>
          {editable && (
            <Button
              className="btn-small"
              disabled={busy}
              aria-expanded={editing}
              onClick={() => setEditing((e) => !e)}
              aria-label={`Edit ${doc.filename}`}
            >
              Edit
            </Button>
          )}
          <Button className="btn-small" variant="danger" onClick={onDelete} aria-label={`Delete ${doc.filename}`}>
            Delete
          </Button>
        </div>
      )}
      {editing && (
        <div className="doc-details">
          <EditContent
            doc={doc}
            onDone={async () => {
              setEditing(false);
              await onEdited();
            }}
            onCancel={() => setEditing(false)}
          />
        </div>
      )}
      {open && (
        <div className="doc-details">
          <dl className="facts">
            <dt>Passages</dt>
            <dd>{doc.chunk_count}</dd>
            <dt>Processed</dt>
            <dd>{formatDate(doc.processed_at)}</dd>
            <dt>Embedding model</dt>
            <dd>{doc.embedding_model ?? "—"}</dd>
            <dt>SHA-256</dt>
            <dd>
              <code>{doc.sha256}</code>
            </dd>
          </dl>
          {doc.status === "ready" ? (
            <Passages key={doc.processed_at} doc={doc} />
          ) : (
            <p className="meta">Its passages can be read here once it is ready.</p>
          )}
        </div>
      )}
    </li>
  );
}

type Chunk = Schemas["ChunkOut"];
// passages read per request; "Show more passages" reads the next ones
const PASSAGES = 20;

/** The document as retrieval sees it: its passages in order, with their page and heading. */
function Passages({ doc }: { doc: Document }) {
  const [total, setTotal] = useState(0);
  const read = async (offset: number) => {
    const page = await call(
      api.GET("/api/documents/{document_id}/chunks", {
        params: { path: { document_id: doc.id }, query: { offset, limit: PASSAGES } },
      }),
    );
    setTotal(page.total);
    return page.items;
  };
  const chunks = useLoad(() => read(0), [doc.id]);
  const more = useAction(async () => {
    const shown = chunks.data ?? [];
    chunks.setData([...shown, ...(await read(shown.length))]);
  });
  if (chunks.loading) return <Loading label="Loading passages…" />;
  if (!chunks.data) return <ErrorNote>{chunks.error}</ErrorNote>;
  const left = total - chunks.data.length;
  return (
    <section className="passages" aria-label={`Passages of ${doc.filename}`}>
      <h3 className="section-title">
        {chunks.data.length < total ? `Passages 1–${chunks.data.length} of ${total}` : pluralize(total, "passage")}
      </h3>
      {chunks.data.length === 0 ? (
        <p className="meta">No text was found in this document.</p>
      ) : (
        <ol className="passage-list">
          {chunks.data.map((chunk) => (
            <PassageItem key={chunk.index} chunk={chunk} />
          ))}
        </ol>
      )}
      <ErrorNote>{more.error}</ErrorNote>
      {left > 0 && (
        <Button className="btn-small" busy={more.busy} onClick={() => void more.run()}>
          Show {Math.min(left, PASSAGES)} more passages
        </Button>
      )}
    </section>
  );
}

function PassageItem({ chunk }: { chunk: Chunk }) {
  return (
    <li className="passage">
      <p className="meta">
        <span className="passage-n">Passage {chunk.index + 1}</span>
        {chunk.page != null && ` · page ${chunk.page}`}
        {chunk.heading && ` · ${chunk.heading}`}
      </p>
      <p className="passage-text">{chunk.text}</p>
    </li>
  );
}

const ORIGIN_LABEL: Record<string, string> = { text: "Text", qa: "Q&A pair" };

/** Edits a text (title, text) or a Q&A pair (question, answer); the server reindexes it. The
 * API does not return a text's content, so an empty text keeps the current one; a pair is read
 * back from its single passage ("question\n\nanswer"). */
function EditContent({ doc, onDone, onCancel }: { doc: Document; onDone: () => Promise<void>; onCancel: () => void }) {
  const qa = doc.origin === "qa";
  const [first, setFirst] = useState(doc.filename);
  const [second, setSecond] = useState("");
  const current = useLoad(async () => {
    if (!qa || doc.status !== "ready") return null;
    const page = await call(
      api.GET("/api/documents/{document_id}/chunks", {
        params: { path: { document_id: doc.id }, query: { offset: 0, limit: 1 } },
      }),
    );
    const text = page.items[0]?.text ?? "";
    const split = text.indexOf("\n\n");
    if (split < 0) return null;
    setFirst(text.slice(0, split));
    setSecond(text.slice(split + 2));
    return text;
  }, [doc.id]);
  const save = useAction(async () => {
    const body = qa
      ? { question: first, answer: second || undefined }
      : { title: first, text: second || undefined };
    await call(api.PATCH("/api/documents/{document_id}", { params: { path: { document_id: doc.id } }, body }));
    await onDone();
  });
  if (current.loading) return <Loading label="Loading…" />;
  return (
    <form
      className="stack"
      aria-label={`Edit ${doc.filename}`}
      onSubmit={(e) => {
        e.preventDefault();
        void save.run();
      }}
    >
      {qa ? (
        <>
          <Field label="Question" required maxLength={1000} value={first} onChange={(e) => setFirst(e.target.value)} />
          <TextArea
            label="Answer"
            rows={4}
            maxLength={4000}
            required={current.data !== null}
            hint={current.data === null ? "Leave empty to keep the current answer." : undefined}
            value={second}
            onChange={(e) => setSecond(e.target.value)}
          />
        </>
      ) : (
        <>
          <Field label="Title" required maxLength={255} value={first} onChange={(e) => setFirst(e.target.value)} />
          <TextArea
            label="New text"
            rows={6}
            hint="Leave empty to keep the current text; open the source to read its passages."
            value={second}
            onChange={(e) => setSecond(e.target.value)}
          />
        </>
      )}
      <ErrorNote>{save.error}</ErrorNote>
      <div className="row">
        <Button type="submit" variant="primary" busy={save.busy}>
          Save and reindex
        </Button>
        <Button onClick={onCancel}>Cancel</Button>
      </div>
    </form>
  );
}

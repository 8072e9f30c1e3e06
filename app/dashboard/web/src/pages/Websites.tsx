import { useEffect, useState } from "react";
import { api, call, type Schemas } from "../api/client";
import { formatDate, pluralize } from "../lib/format";
import { useAction, useLoad } from "../lib/hooks";
import { WEBSITE_STATUS, type DocumentStatus } from "../lib/states";
import { Badge, Button, ConfirmDialog, ErrorNote, Loading } from "../ui";

export type Website = Schemas["WebsiteOut"];

export const crawling = (site: Website) => WEBSITE_STATUS[site.status].working;

/** The chatbot's website sources, each with its crawl's progress, its pages and its issues. */
export function Websites({
  sites,
  manage,
  onChange,
}: {
  sites: Website[];
  manage: boolean;
  onChange: () => Promise<void>;
}) {
  const [deleting, setDeleting] = useState<Website | null>(null);
  const remove = useAction(async (site: Website) => {
    await call(api.DELETE("/api/sources/{source_id}", { params: { path: { source_id: site.id } } }));
    setDeleting(null);
    await onChange();
  });
  if (!sites.length) return null;
  return (
    <section aria-labelledby="site-heading">
      <h2 id="site-heading" className="section-title">
        {pluralize(sites.length, "website")}
      </h2>
      <ul className="doc-list" aria-label="Websites">
        {sites.map((site) => (
          <WebsiteRow key={site.id} site={site} manage={manage} onChange={onChange} onDelete={() => setDeleting(site)} />
        ))}
      </ul>
      <ConfirmDialog
        open={deleting !== null}
        title={`Delete the website ${deleting?.url}?`}
        confirmLabel="Delete website"
        busy={remove.busy}
        error={remove.error}
        onConfirm={() => deleting && void remove.run(deleting)}
        onCancel={() => setDeleting(null)}
      >
        <p>
          Its {pluralize(deleting?.pages_done ?? 0, "page")} and their passages are removed from answers at once. The
          website itself is not touched.
        </p>
      </ConfirmDialog>
    </section>
  );
}

function WebsiteRow({
  site,
  manage,
  onChange,
  onDelete,
}: {
  site: Website;
  manage: boolean;
  onChange: () => Promise<void>;
  onDelete: () => void;
}) {
  const [open, setOpen] = useState(false);
  const busy = crawling(site);
  const recrawl = useAction(async () => {
    await call(api.POST("/api/sources/{source_id}/recrawl", { params: { path: { source_id: site.id } } }));
    await onChange();
  });
  return (
    <li className="doc-row" aria-label={site.url}>
      <div className="doc-main">
        <button
          type="button"
          className="doc-name link-button"
          aria-expanded={open}
          onClick={() => setOpen((o) => !o)}
        >
          {site.url}
        </button>
        <span className="meta">
          Website · {site.last_crawled_at ? `crawled ${formatDate(site.last_crawled_at)}` : `added ${formatDate(site.created_at)}`}
        </span>
      </div>
      <div className="doc-status">
        <Badge tone={WEBSITE_STATUS[site.status].tone}>{WEBSITE_STATUS[site.status].label}</Badge>
        {site.status === "crawling" && (
          <progress
            max={Math.max(site.pages_found, 1)}
            value={site.pages_done + site.pages_failed + site.pages_skipped}
            aria-label={`Crawling ${site.url}`}
          />
        )}
        <span className="meta" data-testid="crawl-counts">
          {site.pages_found} found · {site.pages_done} done · {site.pages_failed} failed · {site.pages_skipped} skipped
          {site.pages_done > 0 && ` · ${site.pages_indexed} indexed`}
        </span>
        {site.error && <p className="doc-error">{site.error}</p>}
      </div>
      {manage && (
        <div className="row doc-actions">
          <Button
            className="btn-small"
            disabled={busy}
            busy={recrawl.busy}
            onClick={() => void recrawl.run()}
            aria-label={`Re-crawl ${site.url}`}
          >
            Re-crawl
          </Button>
          <Button className="btn-small" variant="danger" onClick={onDelete} aria-label={`Delete ${site.url}`}>
            Delete
          </Button>
        </div>
      )}
      {recrawl.error && (
        <div className="doc-details">
          <ErrorNote>{recrawl.error}</ErrorNote>
        </div>
      )}
      {open && (
        <div className="doc-details">
          <Pages site={site} version={`${site.status}-${site.pages_done}-${site.pages_indexed}`} />
          <Issues site={site} />
        </div>
      )}
    </li>
  );
}

const PAGE_STATUS: Record<DocumentStatus, string> = { queued: "queued", processing: "indexing", ready: "ready", failed: "failed" };

/** The documents made from the site's pages, read again whenever the crawl moves on. */
function Pages({ site, version }: { site: Website; version: string }) {
  const pages = useLoad(
    () => call(api.GET("/api/sources/{source_id}/pages", { params: { path: { source_id: site.id } } })),
    [site.id],
  );
  const { reload } = pages;
  useEffect(() => void reload(), [version, reload]);
  if (pages.loading && !pages.data) return <Loading label="Loading pages…" />;
  if (!pages.data) return <ErrorNote>{pages.error}</ErrorNote>;
  return (
    <section className="passages" aria-label={`Pages of ${site.url}`}>
      <h3 className="section-title">{pluralize(pages.data.length, "page")} read</h3>
      {pages.data.length === 0 ? (
        <p className="meta">{crawling(site) ? "No page has been read yet." : "No page could be read."}</p>
      ) : (
        <ul className="passage-list">
          {pages.data.map((doc) => (
            <li key={doc.id} className="passage" aria-label={doc.url ?? doc.filename}>
              <p className="meta">
                <span className="passage-n">{doc.filename}</span> · {PAGE_STATUS[doc.status]}
                {doc.status === "ready" && ` · ${pluralize(doc.chunk_count, "passage")}`}
              </p>
              {doc.url && (
                <a className="passage-text" href={doc.url} target="_blank" rel="noreferrer">
                  {doc.url}
                </a>
              )}
              {doc.status === "failed" && doc.error && <p className="doc-error">{doc.error}</p>}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function Issues({ site }: { site: Website }) {
  if (!site.issues.length) return null;
  return (
    <section className="passages" aria-label={`Pages left out of ${site.url}`}>
      <h3 className="section-title">{pluralize(site.issues.length, "page")} left out</h3>
      <ul className="passage-list">
        {site.issues.map((issue) => (
          <li key={issue.url} className="passage">
            <p className="passage-text">{issue.url}</p>
            <p className="meta">{issue.reason}</p>
          </li>
        ))}
      </ul>
    </section>
  );
}

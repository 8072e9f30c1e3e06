/**
 * How the dashboard shows the API's states. Each map is a `Record` over the state's union in the
 * generated types, so a state the API adds fails type-checking until it has its entry here.
 */
import type { Schemas } from "../api/client";

export type DocumentStatus = Schemas["DocumentStatus"];
export type WebsiteStatus = Schemas["WebsiteStatus"];

interface Shown {
  label: string;
  /** a `badge-*` colour */
  tone: string;
  /** still moving: the page polls until it is not */
  working: boolean;
}

export const DOCUMENT_STATUS: Record<DocumentStatus, Shown> = {
  queued: { label: "Queued", tone: "queued", working: true },
  processing: { label: "Processing", tone: "processing", working: true },
  ready: { label: "Ready", tone: "ready", working: false },
  failed: { label: "Failed", tone: "failed", working: false },
};

/** A website source's crawl, in the colours its documents use. */
export const WEBSITE_STATUS: Record<WebsiteStatus, Shown> = {
  queued: { label: "Queued", tone: "queued", working: true },
  crawling: { label: "Crawling", tone: "processing", working: true },
  ready: { label: "Ready", tone: "ready", working: false },
  failed: { label: "Failed", tone: "failed", working: false },
};

import { useId } from "react";
import type { Source } from "../api/client";
import { formatScore } from "../lib/format";

function where(source: Source): string {
  if (source.page != null) return `page ${source.page}`;
  if (source.heading) return source.heading;
  return `passage ${source.chunk_index + 1}`;
}

interface Props {
  sources: Source[];
  /** The id of a visible caption that names the list, instead of "Sources". */
  labelledBy?: string;
  /** Numbers stand for citations: related reading has none. */
  numbered?: boolean;
}

/** The passages an answer was grounded in: file (a link for a web page), place, similarity score
 * and the quoted text. */
export function SourceList({ sources, labelledBy, numbered = true }: Props) {
  if (!sources.length) return null;
  return (
    <ol className="source-list" aria-label={labelledBy ? undefined : "Sources"} aria-labelledby={labelledBy}>
      {sources.map((source, i) => (
        <li key={`${source.document_id}-${source.chunk_index}-${i}`}>
          <details>
            <summary>
              {numbered && <span className="source-n">{i + 1}</span>}
              <span className="source-file">
                {source.url ? (
                  <a href={source.url} target="_blank" rel="noopener noreferrer">
                    {source.filename}
                  </a>
                ) : (
                  source.filename
                )}
              </span>
              <span className="meta">{where(source)}</span>
              <span className="score" title="Similarity to the question, from 0 to 1">
                score {formatScore(source.score)}
              </span>
            </summary>
            <blockquote>{source.text}</blockquote>
          </details>
        </li>
      ))}
    </ol>
  );
}

/** A refused near-miss's closest passages: reading offered beside the refusal, which the answer
 * does not rest on, so they are captioned as such and carry no citation numbers. */
export function RelatedList({ sources }: { sources: Source[] }) {
  const caption = useId();
  if (!sources.length) return null;
  return (
    <div className="related">
      <p className="related-caption" id={caption}>
        <strong>Related</strong>: the closest passages; they may not answer the question
      </p>
      <SourceList sources={sources} labelledBy={caption} numbered={false} />
    </div>
  );
}

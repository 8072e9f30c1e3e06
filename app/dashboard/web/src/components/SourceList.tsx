import type { Source } from "../api/client";
import { formatScore } from "../lib/format";

function where(source: Source): string {
  if (source.page != null) return `page ${source.page}`;
  if (source.heading) return source.heading;
  return `passage ${source.chunk_index + 1}`;
}

/** The passages an answer was grounded in: file (a link for a web page), place, similarity score
 * and the quoted text. */
export function SourceList({ sources }: { sources: Source[] }) {
  if (!sources.length) return null;
  return (
    <ol className="source-list" aria-label="Sources">
      {sources.map((source, i) => (
        <li key={`${source.document_id}-${source.chunk_index}-${i}`}>
          <details>
            <summary>
              <span className="source-n">{i + 1}</span>
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

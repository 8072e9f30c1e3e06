import { Fragment, type ReactNode } from "react";

// The safe subset of Markdown the widget renders too (app/widget/static/widget.js): code blocks,
// lists, paragraphs; inline code, bold, italics and http(s) links only. Built as React elements,
// so HTML in a document's passage stays text.
const INLINE =
  /`([^`\n]+)`|\*\*([^*\n]+)\*\*|\*(?!\s)([^*\n]+?)(?<!\s)\*|(?<!\w)_([^_\n]+)_(?!\w)|\[([^\]\n]+)\]\((https?:\/\/[^\s)]+)\)/g;
const FENCE = /^\s*```/;
const ITEM = /^\s*([-*+]|\d+[.)])\s+(.*)$/;

interface Block {
  kind: "p" | "pre" | "ul" | "ol";
  lines: string[];
}

function blocks(text: string): Block[] {
  const out: Block[] = [];
  let current = null as Block | null;
  for (const line of text.split("\n")) {
    const item = ITEM.exec(line);
    if (current?.kind === "pre") {
      if (FENCE.test(line)) current = null;
      else current.lines.push(line);
    } else if (FENCE.test(line)) {
      current = { kind: "pre", lines: [] };
      out.push(current);
    } else if (item) {
      const kind = /\d/.test(item[1]) ? "ol" : "ul";
      if (current?.kind !== kind) {
        current = { kind, lines: [] };
        out.push(current);
      }
      current.lines.push(item[2]);
    } else if (!line.trim()) {
      current = null;
    } else if (current?.kind === "p") {
      current.lines.push(line);
    } else {
      current = { kind: "p", lines: [line] };
      out.push(current);
    }
  }
  return out;
}

function spans(text: string): ReactNode[] {
  const out: ReactNode[] = [];
  let at = 0;
  for (const m of text.matchAll(INLINE)) {
    out.push(text.slice(at, m.index));
    at = m.index + m[0].length;
    const key = out.length;
    if (m[1] != null) out.push(<code key={key}>{m[1]}</code>);
    else if (m[2] != null) out.push(<strong key={key}>{spans(m[2])}</strong>);
    else if (m[5] != null)
      out.push(
        <a key={key} href={m[6]} target="_blank" rel="noopener noreferrer nofollow">
          {spans(m[5])}
        </a>,
      );
    else out.push(<em key={key}>{spans(m[3] ?? m[4])}</em>);
  }
  out.push(text.slice(at));
  return out;
}

export function Markdown({ text, className }: { text: string; className?: string }) {
  return (
    <div className={className}>
      {blocks(text).map((block, i) => {
        if (block.kind === "pre")
          return (
            <pre key={i}>
              <code>{block.lines.join("\n")}</code>
            </pre>
          );
        if (block.kind === "p")
          return (
            <p key={i}>
              {block.lines.map((line, j) => (
                <Fragment key={j}>
                  {j > 0 && "\n"}
                  {spans(line)}
                </Fragment>
              ))}
            </p>
          );
        const List = block.kind;
        return (
          <List key={i}>
            {block.lines.map((line, j) => (
              <li key={j}>{spans(line)}</li>
            ))}
          </List>
        );
      })}
    </div>
  );
}

import type { CSSProperties } from "react";

export interface WidgetLook {
  title: string;
  greeting: string;
  starter_questions: string[];
  accent_color: string;
  position: "bottom-right" | "bottom-left";
}

/**
 * The widget as visitors will see it, redrawn from the unsaved settings as they are typed
 * (the real widget reads saved settings only; "Open the real widget" shows that one).
 */
export function WidgetPreview({ look }: { look: WidgetLook }) {
  const style = { "--accent": look.accent_color } as CSSProperties;
  return (
    <figure className={`widget-preview ${look.position === "bottom-left" ? "left" : ""}`} style={style}>
      <figcaption className="visually-hidden">Preview of the chat widget</figcaption>
      <div className="wp-panel" aria-hidden="true">
        <div className="wp-header">{look.title}</div>
        <div className="wp-log">
          <p className="wp-msg">{look.greeting}</p>
          {look.starter_questions.length > 0 && (
            <div className="wp-starters">
              {look.starter_questions.map((q) => (
                <span key={q}>{q}</span>
              ))}
            </div>
          )}
        </div>
        <div className="wp-input">
          <span>Ask a question…</span>
          <span className="wp-send">Send</span>
        </div>
      </div>
      <div className="wp-launcher" aria-hidden="true">
        <svg viewBox="0 0 24 24" width="26" height="26">
          <path fill="currentColor" d="M4 4h16v12H7l-3 3z" />
        </svg>
      </div>
    </figure>
  );
}

import { Link, useParams } from "react-router";
import { api, call, type Schemas, type Source } from "../api/client";
import { SourceList } from "../components/SourceList";
import { formatDate, formatNumber, pluralize } from "../lib/format";
import { useLoad, useTitle } from "../lib/hooks";
import { Badge, Empty, ErrorNote, Loading, PageHeader } from "../ui";
import { useBot } from "./ChatbotLayout";

type Session = Schemas["SessionOut"];
type Message = Schemas["MessageOut"];
// The API has no sessions list with previews yet (app/dashboard/API_GAPS.md): the newest
// sessions' messages are read one request each, so only that many get a preview.
const PREVIEWED = 30;

interface SessionRow extends Session {
  preview: string | null;
  count: number | null;
}

const CHANNEL: Record<string, string> = { dashboard: "Playground", widget: "Widget", api: "API" };

async function messagesOf(sessionId: string): Promise<Message[]> {
  return call(api.GET("/api/sessions/{session_id}/messages", { params: { path: { session_id: sessionId } } }));
}

export function Conversations() {
  useTitle("Conversations");
  const { bot } = useBot();
  const { sessionId } = useParams();
  const sessions = useLoad(async (): Promise<SessionRow[]> => {
    const list = await call(
      api.GET("/api/chatbots/{chatbot_id}/sessions", { params: { path: { chatbot_id: bot.id } } }),
    );
    const previews = await Promise.all(
      list.slice(0, PREVIEWED).map((s) => messagesOf(s.id).catch(() => null)),
    );
    return list.map((s, i) => {
      const messages = previews[i];
      return {
        ...s,
        preview: messages?.find((m) => m.role === "user")?.content ?? null,
        count: messages ? messages.length : null,
      };
    });
  }, [bot.id]);

  return (
    <>
      <PageHeader title="Conversations" description="What people asked this chatbot, on every channel, newest first." />
      <ErrorNote>{sessions.error}</ErrorNote>
      {sessions.loading ? (
        <Loading label="Loading conversations…" />
      ) : !sessions.data?.length ? (
        <Empty title="No conversations yet">
          Questions asked in the playground, through the widget or the API appear here.
        </Empty>
      ) : (
        <div className={`conversations ${sessionId ? "has-transcript" : ""}`}>
          <ul className="session-list" aria-label="Conversations">
            {sessions.data.map((s) => (
              <li key={s.id}>
                <Link
                  to={`../conversations/${s.id}`}
                  relative="path"
                  className={`session ${s.id === sessionId ? "selected" : ""}`}
                  aria-current={s.id === sessionId ? "page" : undefined}
                >
                  <span className="session-preview">{s.preview ?? "Conversation"}</span>
                  <span className="meta">
                    <Badge tone="neutral">{CHANNEL[s.channel] ?? s.channel}</Badge>{" "}
                    {s.count !== null && `${pluralize(s.count, "message")} · `}
                    {formatDate(s.last_message_at)}
                  </span>
                </Link>
              </li>
            ))}
          </ul>
          {sessionId ? (
            <Transcript key={sessionId} sessionId={sessionId} />
          ) : (
            <p className="transcript-placeholder muted">Choose a conversation to read it.</p>
          )}
        </div>
      )}
    </>
  );
}

function Transcript({ sessionId }: { sessionId: string }) {
  const messages = useLoad(() => messagesOf(sessionId), [sessionId]);
  if (messages.loading) return <Loading label="Loading the conversation…" />;
  if (!messages.data) return <ErrorNote>{messages.error}</ErrorNote>;
  return (
    <section className="transcript card" aria-label="Transcript">
      <Link to=".." relative="path" className="back-link">
        ← All conversations
      </Link>
      {messages.data.map((m) => (
        <div key={m.id} className={`bubble ${m.role === "user" ? "bubble-user" : "bubble-bot"}`}>
          <p className="answer">{m.content}</p>
          {m.role !== "user" && (
            <>
              {m.status === "failed" && <p className="bubble-error">Failed: {m.error ?? "the model did not answer"}</p>}
              {m.unanswered && <Badge tone="neutral">No document answered this</Badge>}
              <SourceList sources={(m.sources ?? []) as Source[]} />
              <p className="meta">
                {formatDate(m.created_at)}
                {m.input_tokens + m.output_tokens > 0 &&
                  ` · ${formatNumber(m.input_tokens + m.output_tokens)} tokens`}
                {m.model && ` · ${m.model}`}
              </p>
            </>
          )}
        </div>
      ))}
    </section>
  );
}

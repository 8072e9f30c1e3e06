import { useState } from "react";
import { Link, useParams } from "react-router";
import { api, call, type Schemas, type Source } from "../api/client";
import { Rating } from "../components/Rating";
import { SourceList } from "../components/SourceList";
import { formatDate, formatNumber, pluralize } from "../lib/format";
import { useAction, useLoad, useTitle } from "../lib/hooks";
import { Badge, Button, Empty, ErrorNote, Loading, PageHeader } from "../ui";
import { useBot } from "./ChatbotLayout";

type Session = Schemas["SessionOut"];
// sessions read per page; "Show older conversations" reads the next page
const PAGE = 50;
const BUBBLE: Record<Schemas["MessageRole"], string> = { user: "bubble-user", assistant: "bubble-bot" };

const CHANNEL: Record<string, string> = { dashboard: "Playground", widget: "Widget", api: "API", openai: "OpenAI API" };

async function sessionsOf(chatbotId: string, before?: string): Promise<Session[]> {
  return call(
    api.GET("/api/chatbots/{chatbot_id}/sessions", {
      params: { path: { chatbot_id: chatbotId }, query: { limit: PAGE, before } },
    }),
  );
}

export function Conversations() {
  useTitle("Conversations");
  const { bot } = useBot();
  const { sessionId } = useParams();
  const [older, setOlder] = useState(true);
  const sessions = useLoad(async () => {
    const page = await sessionsOf(bot.id);
    setOlder(page.length === PAGE);
    return page;
  }, [bot.id]);
  const more = useAction(async () => {
    const shown = sessions.data ?? [];
    const page = await sessionsOf(bot.id, shown[shown.length - 1]?.last_message_at);
    setOlder(page.length === PAGE);
    sessions.setData([...shown, ...page]);
  });

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
          <div className="session-column">
            <ul className="session-list" aria-label="Conversations">
              {sessions.data.map((s) => (
                <li key={s.id}>
                  <Link
                    to={`../conversations/${s.id}`}
                    relative="path"
                    className={`session ${s.id === sessionId ? "selected" : ""}`}
                    aria-current={s.id === sessionId ? "page" : undefined}
                  >
                    <span className="session-preview">{s.first_question ?? "Conversation"}</span>
                    <span className="meta">
                      <Badge tone="neutral">{CHANNEL[s.channel] ?? s.channel}</Badge>{" "}
                      {pluralize(s.message_count ?? 0, "message")} · {formatDate(s.last_message_at)}
                    </span>
                  </Link>
                </li>
              ))}
            </ul>
            <ErrorNote>{more.error}</ErrorNote>
            {older && (
              <Button className="load-more" busy={more.busy} onClick={() => void more.run()}>
                Show older conversations
              </Button>
            )}
          </div>
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
  const messages = useLoad(
    () => call(api.GET("/api/sessions/{session_id}/messages", { params: { path: { session_id: sessionId } } })),
    [sessionId],
  );
  if (messages.loading) return <Loading label="Loading the conversation…" />;
  if (!messages.data) return <ErrorNote>{messages.error}</ErrorNote>;
  return (
    <section className="transcript card" aria-label="Transcript">
      <Link to=".." relative="path" className="back-link">
        ← All conversations
      </Link>
      {messages.data.map((m) => (
        <div key={m.id} className={`bubble ${BUBBLE[m.role]}`}>
          <p className="answer">{m.content}</p>
          {/* a failed exchange keeps its question, marked failed, and has no answer */}
          {m.status === "failed" && <p className="bubble-error">Failed: {m.error ?? "the model did not answer"}</p>}
          {m.role !== "user" && (
            <>
              {m.unanswered && <Badge tone="neutral">No document answered this</Badge>}
              <SourceList sources={(m.sources ?? []) as Source[]} />
              {m.feedback && <Rating feedback={m.feedback} />}
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

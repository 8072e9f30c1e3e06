import { useEffect, useRef, useState } from "react";
import type { FormEvent } from "react";
import {
  ApiError,
  api,
  authHeaders,
  call,
  errorMessage,
  NETWORK_ERROR,
  toApiError,
  type Schemas,
  type Source,
} from "../api/client";
import { useAuth } from "../auth";
import { Markdown } from "../components/Markdown";
import { Rating } from "../components/Rating";
import { RelatedList, SourceList } from "../components/SourceList";
import { Thumb } from "../components/Thumb";
import { formatNumber } from "../lib/format";
import { useAction, useTitle } from "../lib/hooks";
import { readEvents } from "../lib/sse";
import { Badge, Button, PageHeader } from "../ui";
import { useBot } from "./ChatbotLayout";

interface Turn {
  id: number;
  question: string;
  answer: string;
  sources: Source[];
  related: Source[];
  done: boolean;
  error: string | null;
  usage?: Schemas["UsageOut"];
  model?: string;
  unanswered?: boolean;
  messageId?: string;
}

/** The stream's first event: the answer's sources, or a near-miss's related passages. */
interface Found {
  session_id: string;
  sources: Source[];
  related?: Source[];
}

interface Done {
  session_id: string;
  message_id: string;
  usage: Schemas["UsageOut"];
  model: string;
  unanswered: boolean;
}

interface Saved {
  turns: Turn[];
  sessionId: string | null;
}

// The conversation survives a reload in sessionStorage, as the widget keeps its chat in
// localStorage: per tab rather than per browser, so a trial chat does not outlive the tab on a
// shared computer. Only finished turns are kept; one cut off by the reload would stay "Thinking…".
const storeKey = (chatbotId: string) => `playground:${chatbotId}`;

function loadChat(chatbotId: string): Saved {
  try {
    const saved = JSON.parse(sessionStorage.getItem(storeKey(chatbotId)) ?? "null") as Saved | null;
    if (saved && Array.isArray(saved.turns)) return saved;
  } catch {
    /* unreadable: start afresh */
  }
  return { turns: [], sessionId: null };
}

function saveChat(chatbotId: string, saved: Saved) {
  try {
    if (saved.turns.length === 0) sessionStorage.removeItem(storeKey(chatbotId));
    else sessionStorage.setItem(storeKey(chatbotId), JSON.stringify(saved));
  } catch {
    /* storage full or disabled: the chat just does not survive a reload */
  }
}

export function Playground() {
  const { bot } = useBot();
  // one conversation per chatbot: switching chatbots mounts the other one's
  return <Chat key={bot.id} />;
}

function Chat() {
  useTitle("Playground");
  const { bot } = useBot();
  const { me, can } = useAuth();
  const [restored] = useState(() => loadChat(bot.id));
  const [turns, setTurns] = useState<Turn[]>(restored.turns);
  const [sessionId, setSessionId] = useState<string | null>(restored.sessionId);
  const [question, setQuestion] = useState("");
  const [asking, setAsking] = useState(false);
  const nextId = useRef(Math.max(-1, ...restored.turns.map((t) => t.id)) + 1);
  const input = useRef<HTMLTextAreaElement>(null);
  const end = useRef<HTMLDivElement>(null);

  useEffect(() => {
    end.current?.scrollIntoView({ block: "end" });
  }, [turns]);

  useEffect(() => {
    saveChat(bot.id, { turns: turns.filter((t) => t.done), sessionId });
  }, [bot.id, turns, sessionId]);

  function update(id: number, change: Partial<Turn> | ((t: Turn) => Partial<Turn>)) {
    setTurns((all) => all.map((t) => (t.id === id ? { ...t, ...(typeof change === "function" ? change(t) : change) } : t)));
  }

  async function ask(e?: FormEvent) {
    e?.preventDefault();
    const text = question.trim();
    if (!text || asking || !me) return;
    const id = nextId.current++;
    setTurns((all) => [...all, { id, question: text, answer: "", sources: [], related: [], done: false, error: null }]);
    setQuestion("");
    setAsking(true);
    try {
      const response = await fetch(`/api/${me.customer.id}/${bot.id}/query`, {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "text/event-stream", ...authHeaders() },
        body: JSON.stringify({ question: text, session_id: sessionId, stream: true }),
      }).catch(() => {
        throw new ApiError(NETWORK_ERROR, 0, "network");
      });
      if (!response.ok) throw toApiError(response, await response.json().catch(() => null));
      for await (const { event, data } of readEvents(response)) {
        if (event === "sources") {
          const found = data as Found;
          setSessionId(found.session_id);
          update(id, { sources: found.sources, related: found.related ?? [] });
        } else if (event === "delta") {
          const delta = (data as { text: string }).text;
          update(id, (t) => ({ answer: t.answer + delta }));
        } else if (event === "done") {
          const done = data as Done;
          setSessionId(done.session_id);
          update(id, {
            done: true,
            usage: done.usage,
            model: done.model,
            unanswered: done.unanswered,
            messageId: done.message_id,
          });
        } else if (event === "error") {
          const err = (data as { error: { message: string } }).error;
          update(id, { done: true, error: err.message });
        }
      }
      update(id, { done: true });
    } catch (err) {
      update(id, { done: true, error: errorMessage(err) });
    } finally {
      setAsking(false);
      input.current?.focus();
    }
  }

  function newChat() {
    setTurns([]);
    setSessionId(null);
    setQuestion("");
    input.current?.focus();
  }

  return (
    <>
      <PageHeader
        title="Playground"
        description="Ask what your customers would ask. Answers come only from this chatbot's ready documents."
        actions={
          <Button onClick={newChat} disabled={asking || turns.length === 0}>
            New chat
          </Button>
        }
      />
      <div className="chat card">
        <div className="chat-log" role="log" aria-label="Conversation" aria-live="polite">
          {turns.length === 0 && (
            <p className="chat-empty muted">
              No questions yet. Try one your customers ask often; follow-up questions continue the same conversation.
            </p>
          )}
          {turns.map((turn) => (
            <article key={turn.id} className="turn" aria-label={turn.question}>
              <p className="bubble bubble-user">{turn.question}</p>
              <div className="bubble bubble-bot" aria-busy={!turn.done}>
                {turn.answer ? <Markdown className="answer" text={turn.answer} /> : !turn.error && <p className="muted">Thinking…</p>}
                {turn.error && (
                  <p className="bubble-error" role="alert">
                    {turn.error}
                  </p>
                )}
                {turn.unanswered && <Badge tone="neutral">No document answered this</Badge>}
                <SourceList sources={turn.sources} />
                <RelatedList sources={turn.related} />
                {turn.usage && (
                  <p className="meta">
                    {formatNumber(turn.usage.total_tokens)} tokens · {turn.model}
                  </p>
                )}
                {turn.messageId && can("manage") && <RateAnswer chatbotId={bot.id} messageId={turn.messageId} />}
              </div>
            </article>
          ))}
          <div ref={end} />
        </div>
        <form className="chat-form" onSubmit={ask}>
          <label htmlFor="question" className="visually-hidden">
            Your question
          </label>
          <textarea
            id="question"
            ref={input}
            rows={2}
            placeholder="Ask a question…"
            value={question}
            onChange={(e) => setQuestion(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === "Enter" && !e.shiftKey) {
                e.preventDefault();
                void ask();
              }
            }}
            autoFocus
          />
          <Button type="submit" variant="primary" busy={asking} disabled={!question.trim()}>
            Send
          </Button>
        </form>
      </div>
    </>
  );
}

/** Thumbs under an answer, for owners and admins trying the chatbot; counted in Analytics. */
function RateAnswer({ chatbotId, messageId }: { chatbotId: string; messageId: string }) {
  const [rated, setRated] = useState<Schemas["FeedbackOut"] | null>(null);
  const rate = useAction(async (rating: "up" | "down") => {
    setRated(
      await call(
        api.POST("/api/chatbots/{chatbot_id}/feedback", {
          params: { path: { chatbot_id: chatbotId } },
          body: { message_id: messageId, rating },
        }),
      ),
    );
  });
  if (rated) return <Rating feedback={rated} />;
  return (
    <div className="rating" role="group" aria-label="Rate this answer">
      <Button className="btn-small" busy={rate.busy} onClick={() => void rate.run("up")}>
        <Thumb rating="up" /> Helpful
      </Button>
      <Button className="btn-small" busy={rate.busy} onClick={() => void rate.run("down")}>
        <Thumb rating="down" /> Not helpful
      </Button>
      {rate.error && <p className="bubble-error">{rate.error}</p>}
    </div>
  );
}

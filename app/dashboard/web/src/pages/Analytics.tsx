import { useState } from "react";
import { Link } from "react-router";
import { api, call } from "../api/client";
import { BarChart } from "../components/BarChart";
import { formatNumber } from "../lib/format";
import { useLoad, useTitle } from "../lib/hooks";
import { Card, Empty, ErrorNote, Loading, Meter, PageHeader } from "../ui";
import { useBot } from "./ChatbotLayout";

const PERIODS = [7, 30, 90];

function isoDay(date: Date) {
  return date.toISOString().slice(0, 10);
}

export function Analytics() {
  useTitle("Analytics");
  const { bot } = useBot();
  const [days, setDays] = useState(30);
  const data = useLoad(async () => {
    const end = new Date();
    const start = new Date(end.getTime() - (days - 1) * 86_400_000);
    const [analytics, usage] = await Promise.all([
      call(
        api.GET("/api/chatbots/{chatbot_id}/analytics", {
          params: { path: { chatbot_id: bot.id }, query: { days } },
        }),
      ),
      call(
        api.GET("/api/usage", {
          params: { query: { start: isoDay(start), end: isoDay(end), chatbot_id: bot.id } },
        }),
      ),
    ]);
    return { analytics, usage };
  }, [bot.id, days]);

  const period = (
    <div className="segmented" role="group" aria-label="Period">
      {PERIODS.map((d) => (
        <button key={d} type="button" aria-pressed={days === d} onClick={() => setDays(d)}>
          {d} days
        </button>
      ))}
    </div>
  );

  return (
    <>
      <PageHeader title="Analytics" description="What people ask, what the documents miss and how answers are rated." actions={period} />
      <ErrorNote>{data.error}</ErrorNote>
      {data.loading || !data.data ? (
        !data.error && <Loading label="Loading analytics…" />
      ) : (
        <AnalyticsBody {...data.data} />
      )}
    </>
  );
}

function AnalyticsBody({
  analytics,
  usage,
}: {
  analytics: import("../api/client").Schemas["ChatbotAnalytics"];
  usage: import("../api/client").Schemas["UsageReport"];
}) {
  const fb = analytics.feedback;
  const rated = fb.up + fb.down;
  return (
    <>
      <dl className="stats">
        <div>
          <dt>Questions</dt>
          <dd>{formatNumber(analytics.questions)}</dd>
        </div>
        <div>
          <dt>Unanswered</dt>
          <dd>{formatNumber(analytics.unanswered)}</dd>
        </div>
        <div>
          <dt>Thumbs up</dt>
          <dd>{formatNumber(fb.up)}</dd>
        </div>
        <div>
          <dt>Thumbs down</dt>
          <dd>{formatNumber(fb.down)}</dd>
        </div>
      </dl>
      <div className="grid-2">
        <Card>
          <BarChart
            title="Questions per day"
            unit="questions"
            partLabel="unanswered"
            bars={analytics.questions_per_day.map((d) => ({ date: d.date, value: d.questions, part: d.unanswered }))}
          />
        </Card>
        <Card>
          <BarChart
            title="Tokens per day"
            unit="tokens"
            bars={usage.by_day.map((d) => ({ date: d.date, value: d.total_tokens }))}
          />
        </Card>
      </div>
      <div className="grid-2">
        <Card title="Most frequent questions">
          {analytics.top_questions.length ? (
            <ol className="ranked">
              {analytics.top_questions.map((q) => (
                <li key={q.question}>
                  <span>{q.question}</span>
                  <span className="count">{formatNumber(q.count)}×</span>
                </li>
              ))}
            </ol>
          ) : (
            <p className="muted">No questions in this period.</p>
          )}
        </Card>
        <Card title="Unanswered questions">
          {analytics.unanswered_questions.length ? (
            <>
              <p className="muted">
                No document answered these. Add documents that do, on <Link to="../sources">Sources</Link>.
              </p>
              <ul className="todo" aria-label="To do: questions the documents miss">
                {analytics.unanswered_questions.map((q) => (
                  <li key={q.question}>
                    <span>{q.question}</span>
                    <span className="count">{formatNumber(q.count)}×</span>
                  </li>
                ))}
              </ul>
            </>
          ) : (
            <p className="muted">Every question found an answer in the documents.</p>
          )}
        </Card>
      </div>
      <Card title="Ratings">
        {rated ? (
          <>
            <p>
              <strong>{Math.round((fb.positive_share ?? 0) * 100)}%</strong> of {formatNumber(rated)} rated answers were
              helpful ({formatNumber(fb.up)} up, {formatNumber(fb.down)} down).
            </p>
            <Meter value={fb.up} max={rated} label="Share of answers rated helpful" warn={false} />
          </>
        ) : (
          <Empty title="No ratings yet">Visitors rate answers with the thumbs under them in the widget.</Empty>
        )}
      </Card>
    </>
  );
}

import { api, call } from "../api/client";
import { BarChart } from "../components/BarChart";
import { formatNumber } from "../lib/format";
import { useLoad, useTitle } from "../lib/hooks";
import { Card, ErrorNote, Loading, Meter, PageHeader, TableWrap } from "../ui";

export function Usage() {
  useTitle("Usage");
  const data = useLoad(async () => {
    const [summary, report] = await Promise.all([call(api.GET("/api/usage/summary")), call(api.GET("/api/usage"))]);
    return { summary, report };
  }, []);
  if (data.loading) return <Loading label="Loading usage…" />;
  if (!data.data) return <ErrorNote>{data.error}</ErrorNote>;
  const { summary, report } = data.data;
  const overLimit = summary.tokens_used >= summary.allowance;
  return (
    <>
      <PageHeader
        title="Usage"
        description={`Tokens your chatbots' answers read and wrote in ${summary.period}, on the ${summary.plan} plan.`}
      />
      <Card title="Monthly allowance">
        <p className="allowance">
          <strong>{formatNumber(summary.tokens_used)}</strong> of {formatNumber(summary.allowance)} tokens used ·{" "}
          <strong>{formatNumber(summary.tokens_remaining)}</strong> remaining
        </p>
        <Meter value={summary.tokens_used} max={summary.allowance} label="Monthly allowance used" />
        <p className="meta allowance-meta">
          {formatNumber(summary.queries)} questions · {formatNumber(summary.input_tokens)} input and{" "}
          {formatNumber(summary.output_tokens)} output tokens.{" "}
          {summary.overage_allowed
            ? "Your plan continues past the allowance; extra tokens are billed."
            : "Questions are refused once the allowance is used up, until next month."}
        </p>
        {overLimit && !summary.overage_allowed && (
          <p className="field-error">The allowance is used up: your chatbots are not answering until next month.</p>
        )}
      </Card>
      <Card>
        <BarChart
          title="Tokens per day"
          unit="tokens"
          bars={report.by_day.map((d) => ({ date: d.date, value: d.total_tokens }))}
        />
      </Card>
      <Card title="By chatbot">
        {report.by_chatbot.length === 0 ? (
          <p className="muted">No usage this month yet.</p>
        ) : (
          <TableWrap label="Usage by chatbot">
            <table>
              <thead>
                <tr>
                  <th>Chatbot</th>
                  <th className="num">Questions answered</th>
                  <th className="num">LLM calls</th>
                  <th className="num">Input tokens</th>
                  <th className="num">Output tokens</th>
                  <th className="num">Total</th>
                </tr>
              </thead>
              <tbody>
                {report.by_chatbot.map((b) => (
                  <tr key={b.chatbot_id ?? "deleted"}>
                    <td>{b.chatbot_name ?? "Deleted chatbot"}</td>
                    <td className="num">{formatNumber(b.queries)}</td>
                    <td className="num">{formatNumber(b.llm_calls)}</td>
                    <td className="num">{formatNumber(b.input_tokens)}</td>
                    <td className="num">{formatNumber(b.output_tokens)}</td>
                    <td className="num">{formatNumber(b.total_tokens)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </TableWrap>
        )}
      </Card>
    </>
  );
}

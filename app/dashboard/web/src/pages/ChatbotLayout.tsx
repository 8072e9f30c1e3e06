import { NavLink, Outlet, useOutletContext, useParams } from "react-router";
import { api, call, type Chatbot } from "../api/client";
import { useLoad } from "../lib/hooks";
import { Empty, Loading } from "../ui";

interface BotContext {
  bot: Chatbot;
  setBot: (bot: Chatbot) => void;
  reload: () => Promise<void>;
}

export const useBot = () => useOutletContext<BotContext>();

const TABS = [
  ["sources", "Sources"],
  ["playground", "Playground"],
  ["settings", "Settings"],
  ["embed", "Embed"],
  ["conversations", "Conversations"],
  ["analytics", "Analytics"],
  ["keys", "Keys"],
] as const;

export function ChatbotLayout() {
  const { botId = "" } = useParams();
  const bot = useLoad(
    () => call(api.GET("/api/chatbots/{chatbot_id}", { params: { path: { chatbot_id: botId } } })),
    [botId],
  );
  if (bot.loading) return <Loading label="Loading chatbot…" />;
  if (!bot.data) {
    return (
      <Empty title="This chatbot is not available" action={<NavLink to="/chatbots">Back to your chatbots</NavLink>}>
        {bot.error}
      </Empty>
    );
  }
  return (
    <>
      <div className="bot-header">
        <NavLink to="/chatbots" end className="crumb">
          Chatbots
        </NavLink>
        <span aria-hidden="true" className="crumb-sep">
          /
        </span>
        <span className="bot-name">{bot.data.name}</span>
      </div>
      <nav className="tabs" aria-label={`${bot.data.name} sections`}>
        {TABS.map(([path, label]) => (
          <NavLink key={path} to={path}>
            {label}
          </NavLink>
        ))}
      </nav>
      <Outlet context={{ bot: bot.data, setBot: bot.setData, reload: bot.reload } satisfies BotContext} />
    </>
  );
}

/*! Chat widget. Embed with the snippet from GET /api/chatbots/{id}/snippet:
 *  <script async src="https://API/widget.js?v=…" data-chatbot-id="…" data-widget-key="pk_…"></script>
 *  data-mode="inline" fills the page instead of floating (the iframe variant).
 *  Everything lives in a Shadow DOM, so host and widget styles cannot reach each other. */
(() => {
  "use strict";
  const script = document.currentScript;
  const { chatbotId, widgetKey, mode, visitorToken } = (script && script.dataset) || {};
  if (!chatbotId || !widgetKey) return;
  const api = new URL(script.src).origin;
  const inline = mode === "inline";
  const storeKey = "ragchat:" + chatbotId;
  // only the API's own preview and iframe pages carry a visitor token; customers' sites need none
  const visitor = visitorToken ? { "X-Visitor-Token": visitorToken } : {};
  const KEEP = 50; // messages kept in localStorage
  const TEXT = {
    refused: "This chat isn't enabled on this website.",
    quota: "This chat has reached its usage limit for now. Please try again later.",
    rateLimited: (s) => `You're sending messages too quickly. Please wait ${s} seconds and try again.`,
    offline: "Can't reach the chat service. Check your internet connection and try again.",
    unavailable: "This chat is not available right now.",
    interrupted: "The answer was interrupted. Please try again.",
    failed: "Sorry, something went wrong. Please try again.",
    thanks: "Thanks for your feedback.",
    related: "Related, may not answer the question",
  };
  const EXCERPT = 600; // characters of a source's text kept to show when its chip is opened

  const CSS = `
:host { all: initial !important; }
* { box-sizing: border-box; }
[hidden] { display: none !important; }
.root { --accent: #2563eb; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  color: #1f2937; letter-spacing: normal; text-align: left; }
.launcher { position: fixed; bottom: 20px; right: 20px; z-index: 2147483000; width: 56px; height: 56px;
  border: 0; border-radius: 50%; background: var(--accent); color: #fff; cursor: pointer;
  display: flex; align-items: center; justify-content: center; box-shadow: 0 4px 14px rgba(0,0,0,.25); }
.left .launcher, .left .panel { right: auto; left: 20px; }
.launcher svg { width: 28px; height: 28px; fill: currentColor; }
button:focus-visible, input:focus-visible, a:focus-visible { outline: 3px solid #f59e0b; outline-offset: 2px; }
.panel { position: fixed; bottom: 88px; right: 20px; z-index: 2147483001; width: 370px; height: 560px;
  max-height: calc(100vh - 108px); display: flex; flex-direction: column; background: #fff;
  border-radius: 14px; overflow: hidden; box-shadow: 0 10px 40px rgba(0,0,0,.25); }
.inline .panel { position: static; width: 100%; height: 100vh; max-height: none; border-radius: 0; box-shadow: none; }
header { display: flex; align-items: center; gap: 8px; padding: 12px 14px; background: var(--accent); color: #fff; }
h2 { flex: 1; margin: 0; font-size: 16px; font-weight: 600; line-height: 1.3; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.close { border: 0; background: transparent; color: inherit; font-size: 24px; line-height: 1; cursor: pointer;
  width: 44px; height: 44px; border-radius: 8px; }
.log { flex: 1; overflow-y: auto; padding: 14px; display: flex; flex-direction: column; gap: 10px; background: #f9fafb; }
.msg { max-width: 88%; padding: 9px 12px; border-radius: 12px; white-space: pre-wrap; overflow-wrap: anywhere; }
.bot { align-self: flex-start; background: #fff; border: 1px solid #e5e7eb; }
.user { align-self: flex-end; background: var(--accent); color: #fff; }
.error { border-color: #fca5a5; background: #fef2f2; color: #991b1b; }
.pending .text:empty::after { content: "…"; }
.text > * { margin: 0; } .text > * + * { margin-top: 6px; } .text ul, .text ol { padding-left: 20px; }
.text code { font-family: ui-monospace, monospace; font-size: 13px; background: rgb(0 0 0 / 0.06); border-radius: 4px; }
.text pre { overflow-x: auto; padding: 6px 8px; background: rgb(0 0 0 / 0.06); border-radius: 6px; }
.text a { color: inherit; }
.sources { margin: 8px 0 0; padding: 0; list-style: none; display: flex; flex-wrap: wrap; gap: 4px; font-size: 12px; }
.sources li { display: contents; }
.chip { border: 0; background: #eef2ff; color: #3730a3; border-radius: 6px; padding: 2px 6px; font: inherit;
  font-size: 12px; cursor: pointer; text-decoration: none; }
.chip[aria-expanded="true"] { background: #c7d2fe; }
.related-label { margin: 8px 0 0; font-size: 12px; color: #4b5563; }
.related-label + .sources { margin-top: 4px; }
.related .chip { border: 1px dashed #9ca3af; background: #f3f4f6; color: #374151; }
.related .chip[aria-expanded="true"] { background: #e5e7eb; }
.excerpt { margin: 6px 0 0; padding: 6px 8px; border-left: 3px solid var(--accent); background: #f3f4f6;
  font-size: 13px; white-space: pre-wrap; }
.rate { display: flex; align-items: center; gap: 4px; margin-top: 6px; font-size: 12px; color: #4b5563; }
.rate button { border: 1px solid #d1d5db; background: #fff; border-radius: 6px; min-width: 32px; min-height: 28px;
  cursor: pointer; font-size: 14px; display: inline-flex; align-items: center; justify-content: center; }
.rate button[aria-pressed="true"] { background: #eef2ff; border-color: var(--accent); }
.new { border: 0; background: transparent; color: inherit; font: inherit; font-size: 13px; cursor: pointer;
  padding: 6px 8px; border-radius: 8px; text-decoration: underline; }
.starters { display: flex; flex-wrap: wrap; gap: 6px; padding: 0 14px 10px; background: #f9fafb; }
.starters button { border: 1px solid var(--accent); color: var(--accent); background: #fff; border-radius: 16px;
  padding: 6px 10px; font: inherit; font-size: 13px; cursor: pointer; }
.notice { margin: 0; padding: 10px 14px; background: #fef3c7; color: #78350f; font-size: 14px; }
form { display: flex; gap: 8px; padding: 10px; border-top: 1px solid #e5e7eb; background: #fff; }
input { flex: 1; min-width: 0; padding: 10px 12px; border: 1px solid #d1d5db; border-radius: 10px; font: inherit;
  font-size: 16px; color: inherit; background: #fff; }
.send { border: 0; border-radius: 10px; padding: 0 14px; background: var(--accent); color: #fff; font: inherit;
  font-weight: 600; cursor: pointer; min-height: 44px; }
.send:disabled, input:disabled { opacity: .55; cursor: not-allowed; }
.sr { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
@media (max-width: 480px) {
  .root .panel { inset: 0; width: 100%; height: 100%; max-height: none; border-radius: 0; }
}`;

  const HTML = `
<div class="root" part="root">
  <button class="launcher" type="button" aria-label="Open chat" aria-expanded="false" aria-controls="panel">
    <svg viewBox="0 0 24 24" aria-hidden="true"><path d="M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z"/></svg>
  </button>
  <section class="panel" id="panel" role="dialog" aria-labelledby="title" hidden>
    <header><h2 id="title">Chat</h2><button class="new" type="button">New conversation</button>
      <button class="close" type="button" aria-label="Close chat">×</button></header>
    <div class="log" role="log" aria-live="polite"></div>
    <div class="starters"></div>
    <p class="notice" role="alert" hidden></p>
    <form><label class="sr" for="input">Your question</label>
      <input id="input" type="text" autocomplete="off" maxlength="4000" placeholder="Ask a question…">
      <button class="send" type="submit">Send</button></form>
  </section>
</div>`;

  const host = document.createElement("div");
  host.setAttribute("data-chat-widget", chatbotId);
  const shadow = host.attachShadow({ mode: "open" });
  shadow.innerHTML = `<style>${CSS}</style>${HTML}`;
  const $ = (selector) => shadow.querySelector(selector);
  const root = $(".root"), launcher = $(".launcher"), panel = $(".panel"), log = $(".log");
  const starters = $(".starters"), notice = $(".notice"), form = $("form"), input = $("input");
  const sendButton = $(".send");

  let config = null; // from /widget/config: null until it answers
  let busy = false;
  let state = load();

  function load() {
    try {
      const saved = JSON.parse(localStorage.getItem(storeKey));
      if (saved && Array.isArray(saved.messages)) return saved;
    } catch (_) { /* storage blocked or corrupt: start afresh */ }
    return { session_id: null, messages: [], open: false };
  }
  function save() {
    state.messages = state.messages.slice(-KEEP);
    try { localStorage.setItem(storeKey, JSON.stringify(state)); } catch (_) { /* private mode */ }
  }

  function sourceLabel(s) {
    return s.filename + (s.page ? ", p. " + s.page : s.heading ? " – " + s.heading : "");
  }
  // Each source is a chip: a link for web pages, else a button that shows the quoted excerpt.
  function showSources(bubble, sources, name = "Sources") {
    const seen = new Set();
    const list = document.createElement("ul");
    list.className = "sources";
    list.setAttribute("aria-label", name);
    for (const source of sources || []) {
      const label = sourceLabel(source);
      if (seen.has(label)) continue;
      seen.add(label);
      const item = list.appendChild(document.createElement("li"));
      const href = [source.url, source.filename].find((u) => /^https?:\/\//.test(u || ""));
      if (href) {
        const link = item.appendChild(document.createElement("a"));
        link.className = "chip";
        link.href = href;
        link.target = "_blank";
        link.rel = "noopener noreferrer";
        link.textContent = label;
        continue;
      }
      const chip = item.appendChild(document.createElement("button"));
      chip.type = "button";
      chip.className = "chip";
      chip.textContent = label;
      chip.setAttribute("aria-expanded", "false");
      chip.addEventListener("click", () => toggleExcerpt(bubble, chip, source));
    }
    if (!seen.size) return null;
    return bubble.appendChild(list);
  }
  // A refused near-miss's closest passages, captioned so that no one takes them for the answer's sources.
  function showRelated(bubble, related) {
    const list = showSources(bubble, related, TEXT.related);
    if (!list) return;
    list.classList.add("related");
    const caption = bubble.insertBefore(document.createElement("p"), list);
    caption.className = "related-label";
    caption.textContent = TEXT.related + ":";
  }
  function toggleExcerpt(bubble, chip, source) {
    const shown = bubble.querySelector(".excerpt");
    const same = shown && shown.dataset.label === chip.textContent;
    if (shown) shown.remove();
    for (const other of bubble.querySelectorAll(".chip[aria-expanded]")) other.setAttribute("aria-expanded", "false");
    if (same) return;
    const quote = bubble.appendChild(document.createElement("blockquote"));
    quote.className = "excerpt";
    quote.dataset.label = chip.textContent;
    quote.textContent = (source.text || "").slice(0, EXCERPT) || chip.textContent;
    chip.setAttribute("aria-expanded", "true");
    quote.scrollIntoView({ block: "nearest" });
  }
  // The dashboard's thumb (Material Design, Apache 2.0), drawn rather than an emoji so it shows on
  // machines without an emoji font; the button's aria-label names it.
  const THUMB = "M1 21h4V9H1v12zm22-11c0-1.1-.9-2-2-2h-6.31l.95-4.57.03-.32c0-.41-.17-.79-.44-1.06L14.17 1 7.59 7.59C7.22 7.95 7 8.45 7 9v10c0 1.1.9 2 2 2h9c.83 0 1.54-.5 1.84-1.22l3.02-7.05c.09-.23.14-.47.14-.73v-2z";
  function thumb(rating) {
    const ns = "http://www.w3.org/2000/svg";
    const svg = document.createElementNS(ns, "svg");
    for (const [k, v] of [["viewBox", "0 0 24 24"], ["width", "14"], ["height", "14"], ["aria-hidden", "true"], ["focusable", "false"]]) svg.setAttribute(k, v);
    const path = svg.appendChild(document.createElementNS(ns, "path"));
    path.setAttribute("d", THUMB);
    path.setAttribute("fill", "currentColor");
    if (rating === "down") path.setAttribute("transform", "rotate(180 12 12)");
    return svg;
  }
  function showRating(bubble, message) {
    if (!message.message_id) return;
    const row = bubble.appendChild(document.createElement("div"));
    row.className = "rate";
    const status = document.createElement("span");
    for (const [rating, label] of [["up", "Helpful"], ["down", "Not helpful"]]) {
      const b = row.appendChild(document.createElement("button"));
      b.type = "button";
      b.appendChild(thumb(rating));
      b.setAttribute("aria-label", label);
      b.setAttribute("aria-pressed", String(message.rating === rating));
      b.disabled = Boolean(message.rating);
      b.addEventListener("click", () => rate(message, rating, row, status));
    }
    row.appendChild(status);
    if (message.rating) status.textContent = TEXT.thanks;
  }
  async function rate(message, rating, row, status) {
    for (const b of row.querySelectorAll("button")) b.disabled = true;
    try {
      const r = await fetch(`${api}/api/public/${chatbotId}/feedback`, {
        method: "POST",
        credentials: "omit",
        headers: { "Content-Type": "application/json", "X-API-Key": widgetKey, ...visitor },
        body: JSON.stringify({ message_id: message.message_id, rating }),
      });
      if (!r.ok && r.status !== 409) throw new Error(String(r.status)); // 409: rated already
      message.rating = rating;
      save();
      row.querySelector(`[aria-label="${rating === "up" ? "Helpful" : "Not helpful"}"]`).setAttribute("aria-pressed", "true");
      status.textContent = TEXT.thanks;
    } catch (_) {
      for (const b of row.querySelectorAll("button")) b.disabled = false;
      status.textContent = TEXT.failed;
    }
  }
  // A safe subset of Markdown built as DOM nodes, never HTML from the answer: code blocks, lists,
  // paragraphs; inline code, bold, italics and http(s) links only.
  const INLINE = /`([^`\n]+)`|\*\*([^*\n]+)\*\*|\*(?!\s)([^*\n]+?)(?<!\s)\*|(?<!\w)_([^_\n]+)_(?!\w)|\[([^\]\n]+)\]\((https?:\/\/[^\s)]+)\)/g;
  function spans(el, text) {
    let at = 0;
    for (const m of text.matchAll(INLINE)) {
      el.append(text.slice(at, m.index));
      at = m.index + m[0].length;
      const tag = m[1] != null ? "code" : m[2] != null ? "strong" : m[5] != null ? "a" : "em";
      const node = el.appendChild(document.createElement(tag));
      if (tag === "code") node.textContent = m[1];
      else spans(node, m[2] ?? m[5] ?? m[3] ?? m[4]);
      if (tag === "a") Object.assign(node, { href: m[6], target: "_blank", rel: "noopener noreferrer nofollow" });
    }
    el.append(text.slice(at));
  }
  function markdown(el, text) {
    el.textContent = "";
    let block = null, kind = "";
    const open = (tag) => (kind = tag, block = el.appendChild(document.createElement(tag)));
    for (const line of text.split("\n")) {
      const item = /^\s*([-*+]|\d+[.)])\s+(.*)$/.exec(line);
      if (kind === "pre") {
        if (/^\s*```/.test(line)) kind = "";
        else block.firstChild.append((block.n++ ? "\n" : "") + line);
      } else if (/^\s*```/.test(line)) {
        open("pre").appendChild(document.createElement("code"));
        block.n = 0;
      } else if (item) {
        const tag = /\d/.test(item[1]) ? "ol" : "ul";
        if (kind !== tag) open(tag);
        spans(block.appendChild(document.createElement("li")), item[2]);
      } else if (!line.trim()) kind = "";
      else if (kind === "p") { block.append("\n"); spans(block, line); }
      else spans(open("p"), line);
    }
  }
  function bubble(role, text, sources, message) {
    const el = document.createElement("div");
    el.className = "msg " + role;
    const body = el.appendChild(document.createElement("div"));
    body.className = "text";
    if (role === "bot") markdown(body, text || "");
    else body.textContent = text;
    if (sources) showSources(el, sources);
    if (message) showRelated(el, message.related);
    if (message) showRating(el, message);
    log.appendChild(el);
    log.scrollTop = log.scrollHeight;
    return el;
  }
  function setNotice(text) {
    notice.textContent = text || "";
    notice.hidden = !text;
  }

  function render() {
    log.textContent = "";
    if (config && config.origin_allowed) bubble("bot", config.greeting);
    for (const m of state.messages) bubble(m.role, m.text, m.sources, m.role === "bot" ? m : null);
    starters.textContent = "";
    const questions = (config && config.origin_allowed && !state.messages.length && config.starter_questions) || [];
    for (const q of questions) {
      const b = starters.appendChild(document.createElement("button"));
      b.type = "button";
      b.textContent = q;
      b.addEventListener("click", () => ask(q));
    }
    starters.hidden = !questions.length;
  }

  function applyConfig(c) {
    config = c;
    $("#title").textContent = c.title;
    if (/^#[0-9a-f]{6}$/i.test(c.accent_color)) root.style.setProperty("--accent", c.accent_color);
    root.classList.toggle("left", c.position === "bottom-left");
    launcher.setAttribute("aria-label", "Open chat: " + c.title);
    if (!c.origin_allowed) {
      setNotice(TEXT.refused);
      input.disabled = sendButton.disabled = true;
      console.warn(`Chat widget: ${c.origin || "this page"} is not in the chatbot's allowed_origins.`);
    }
    render();
  }

  function open(focus = true) {
    panel.hidden = false;
    launcher.setAttribute("aria-expanded", "true");
    state.open = true;
    save();
    log.scrollTop = log.scrollHeight;
    if (focus) (input.disabled ? $(".close") : input).focus();
  }
  function close() {
    if (inline) return;
    panel.hidden = true;
    launcher.setAttribute("aria-expanded", "false");
    state.open = false;
    save();
    launcher.focus();
  }

  function errorText(status, body, retryAfter) {
    if (status === 402) return TEXT.quota;
    if (status === 429) return TEXT.rateLimited(retryAfter || "a few");
    if (status === 403) return TEXT.refused;
    return (body && body.error && body.error.message) || TEXT.failed;
  }

  async function post(question) {
    return fetch(`${api}/api/public/${chatbotId}/query`, {
      method: "POST",
      credentials: "omit",
      headers: {
        "Content-Type": "application/json",
        "X-API-Key": widgetKey,
        Accept: "text/event-stream",
        ...visitor,
      },
      body: JSON.stringify({ question, session_id: state.session_id || undefined, stream: true }),
    });
  }

  // Reads the Server-Sent Events of one answer into `reply`; returns {text, sources, related} when done.
  async function readAnswer(response, reply) {
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    const body = reply.querySelector(".text");
    let buffer = "", text = "", sources = [], related = [];
    for (;;) {
      const { value, done } = await reader.read();
      if (done) throw new Error(TEXT.interrupted);
      buffer += decoder.decode(value, { stream: true });
      let end;
      while ((end = buffer.search(/\r?\n\r?\n/)) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end).replace(/^\r?\n\r?\n/, "");
        let event = "message", data = "";
        for (const line of block.split(/\r?\n/)) {
          if (line.startsWith("event:")) event = line.slice(6).trim();
          else if (line.startsWith("data:")) data += line.slice(5).trim();
        }
        if (!data) continue;
        const payload = JSON.parse(data);
        if (event === "sources") {
          sources = payload.sources;
          related = payload.related || [];
          state.session_id = payload.session_id;
        } else if (event === "delta") {
          text += payload.text;
          markdown(body, text);
          log.scrollTop = log.scrollHeight;
        } else if (event === "error") {
          throw new Error(payload.error.message || TEXT.failed);
        } else if (event === "done") {
          state.session_id = payload.session_id;
          return { text, sources, related, message_id: payload.unanswered ? null : payload.message_id };
        }
      }
    }
  }

  async function ask(question) {
    question = question.trim();
    if (busy || !question || (config && !config.origin_allowed)) return;
    busy = true;
    input.value = "";
    setNotice("");
    starters.hidden = true;
    bubble("user", question);
    const reply = bubble("bot pending", "");
    log.setAttribute("aria-busy", "true");
    sendButton.disabled = true;
    try {
      let response = await post(question);
      if (response.status === 404 && state.session_id) {
        state.session_id = null; // the stored conversation is gone: start a new one
        response = await post(question);
      }
      if (!response.ok) {
        const body = await response.json().catch(() => null);
        throw new Error(errorText(response.status, body, response.headers.get("Retry-After")));
      }
      const answer = await readAnswer(response, reply);
      const keep = (sources) => sources.map(({ filename, page, heading, text, url }) => ({
        filename, page, heading, url, text: (text || "").slice(0, EXCERPT),
      }));
      const message = {
        role: "bot", text: answer.text, sources: keep(answer.sources), related: keep(answer.related),
        message_id: answer.message_id,
      };
      showSources(reply, message.sources);
      showRelated(reply, message.related);
      showRating(reply, message);
      reply.scrollIntoView({ block: "end" }); // the answer's sources, related passages and rating in view
      state.messages.push({ role: "user", text: question }, message);
      save();
    } catch (error) {
      // fetch and stream reads fail with TypeError when the network does; ours are plain Errors
      const message = error instanceof TypeError ? TEXT.offline : error instanceof SyntaxError ? TEXT.failed : error.message;
      reply.remove(); // said once, in the notice
      setNotice(message);
    } finally {
      reply.classList.remove("pending");
      log.removeAttribute("aria-busy");
      sendButton.disabled = false;
      busy = false;
      if (!panel.hidden) input.focus();
    }
  }

  launcher.addEventListener("click", () => (panel.hidden ? open() : close()));
  $(".close").addEventListener("click", close);
  $(".new").addEventListener("click", () => {
    if (busy) return;
    state = { session_id: null, messages: [], open: state.open };
    save();
    setNotice("");
    render();
    input.focus();
  });
  panel.addEventListener("keydown", (e) => {
    if (e.key === "Escape") close();
  });
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    ask(input.value);
  });

  if (inline) {
    root.classList.add("inline");
    launcher.hidden = true;
    $(".close").hidden = true;
  }
  render();
  const mount = () => {
    document.body.appendChild(host);
    if (inline || state.open) open(false); // reopen as it was, without taking the page's focus
  };
  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount);

  fetch(`${api}/widget/config/${chatbotId}?key=${encodeURIComponent(widgetKey)}`, {
    credentials: "omit",
    headers: visitor,
  })
    .then(async (r) => {
      if (r.ok) return applyConfig(await r.json());
      const body = await r.json().catch(() => null);
      console.warn("Chat widget:", (body && body.error && body.error.message) || r.status);
      setNotice(TEXT.unavailable);
    })
    .catch(() => setNotice(TEXT.offline));
})();

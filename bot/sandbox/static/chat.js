// The sandbox web chat. Every message is built from DOM nodes: the text and the emulator's
// parsed entities (offsets in UTF-16 code units, which is what JavaScript strings index by).
// Nothing the bot or a feed wrote is ever parsed as HTML.
"use strict";

const SAFE_PROTOCOLS = new Set(["http:", "https:", "mailto:", "tg:"]);
const state = {
  bot: { first_name: "newsbot", username: "" },
  chats: [],
  commands: [],
  current: null,
  messages: new Map(), // chat id -> Map(message id -> message)
  unread: new Map(),
  socket: null,
  pressing: new Map(), // chat id -> pressed button element
};
const $ = (id) => document.getElementById(id);

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function safeUrl(raw) {
  try {
    const url = new URL(raw);
    return SAFE_PROTOCOLS.has(url.protocol) ? url.href : null;
  } catch (_error) {
    return null;
  }
}

function link(href, text) {
  const url = safeUrl(href);
  if (!url) return el("span", "", text);
  const a = el("a", "", text);
  a.href = url;
  a.target = "_blank";
  a.rel = "noopener noreferrer";
  return a;
}

function entityNode(entity, text) {
  switch (entity.type) {
    case "bold": return el("b");
    case "italic": return el("i");
    case "underline": return el("u");
    case "strikethrough": return el("s");
    case "code": return el("code");
    case "pre": return el("pre");
    case "blockquote":
    case "expandable_blockquote": return el("blockquote");
    case "spoiler": {
      const span = el("span", "spoiler");
      span.addEventListener("click", () => span.classList.add("revealed"));
      return span;
    }
    case "text_link": return entity.url ? link(entity.url, undefined) : el("span");
    case "url": return link(/^[a-z][a-z0-9+.-]*:/i.test(text) ? text : "https://" + text);
    case "email": return link("mailto:" + text);
    case "bot_command": {
      const span = el("span", "command");
      const command = text;
      span.addEventListener("click", () => sendText(command));
      return span;
    }
    default: return el("span", "entity-" + entity.type.replace(/[^a-z_]/g, ""));
  }
}

// Plain text, with "/command" words clickable as Telegram shows them (they send the command).
const COMMAND = /(^|[\s(])(\/[a-z][a-z0-9_]{0,31}(?:@\w+)?)(?=$|[\s.,;:!?)"'])/gi;
function appendText(parent, text) {
  if (parent.closest("a, code, pre, .command")) { parent.append(text); return; }
  let last = 0;
  for (const match of text.matchAll(COMMAND)) {
    const start = match.index + match[1].length;
    parent.append(text.slice(last, start));
    const command = el("span", "command", match[2]);
    command.addEventListener("click", () => sendText(match[2]));
    parent.append(command);
    last = start + match[2].length;
  }
  parent.append(text.slice(last));
}

// Append text[start, end) to parent, wrapping the spans that `entities` mark (nested ones
// inside their parent; an entity that overlaps another without nesting is shown plain).
function renderRange(parent, text, start, end, entities) {
  let position = start;
  let i = 0;
  while (i < entities.length) {
    const entity = entities[i];
    if (entity.offset < position) { i += 1; continue; }
    const stop = Math.min(entity.offset + entity.length, end);
    if (entity.offset > position) appendText(parent, text.slice(position, entity.offset));
    const inner = [];
    let j = i + 1;
    while (j < entities.length && entities[j].offset < stop) {
      if (entities[j].offset + entities[j].length <= stop) inner.push(entities[j]);
      j += 1;
    }
    const node = entityNode(entity, text.slice(entity.offset, stop));
    renderRange(node, text, entity.offset, stop, inner);
    parent.append(node);
    position = stop;
    i = j;
  }
  if (position < end) appendText(parent, text.slice(position, end));
}

function renderText(text, entities) {
  const container = el("div", "text");
  const valid = (entities || [])
    .filter((e) => Number.isInteger(e.offset) && Number.isInteger(e.length) && e.length > 0)
    .filter((e) => e.offset >= 0 && e.offset + e.length <= text.length)
    .sort((a, b) => a.offset - b.offset || b.length - a.length);
  renderRange(container, text, 0, text.length, valid);
  return container;
}

function clock(seconds) {
  const date = seconds ? new Date(seconds * 1000) : new Date();
  return date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

function renderMessage(chatId, message) {
  const row = el("div", "message-row from-" + (message.from === "bot" ? "bot" : "user"));
  row.dataset.messageId = String(message.id);
  row.dataset.from = message.from;
  const bubble = el("div", "bubble");
  const chat = state.chats.find((c) => c.id === chatId);
  if (chat && chat.type !== "private") {
    bubble.append(el("div", "sender", message.from === "bot" ? state.bot.first_name : message.sender));
  }
  const text = renderText(message.text, message.entities);
  const meta = el("span", "meta", (message.edited ? "edited " : "") + clock(message.date));
  text.append(meta);
  bubble.append(text);
  row.append(bubble);
  if (message.buttons && message.buttons.length) {
    const keyboard = el("div", "keyboard");
    for (const buttons of message.buttons) {
      const line = el("div", "keyboard-row");
      for (const button of buttons) line.append(renderButton(chatId, message.id, button));
      keyboard.append(line);
    }
    row.append(keyboard);
  }
  return row;
}

function renderButton(chatId, messageId, button) {
  const node = el("button", "inline-button", button.text);
  node.type = "button";
  if (button.url) {
    node.classList.add("url");
    node.addEventListener("click", () => {
      const url = safeUrl(button.url);
      if (url) window.open(url, "_blank", "noopener");
    });
  } else if (button.data !== undefined) {
    node.dataset.data = button.data;
    node.addEventListener("click", () => press(chatId, messageId, button.data, node));
  }
  return node;
}

function chatMessages(chatId) {
  if (!state.messages.has(chatId)) state.messages.set(chatId, new Map());
  return state.messages.get(chatId);
}

function renderChat() {
  const box = $("messages");
  box.replaceChildren();
  const messages = chatMessages(state.current);
  if (!messages.size) {
    box.append(el("div", "empty",
      "Say hello: send /start, then /subscribe ukraine, or press ☰ Menu."));
  }
  for (const message of messages.values()) box.append(renderMessage(state.current, message));
  box.scrollTop = box.scrollHeight;
}

function renderChatList() {
  const list = $("chat-list");
  list.replaceChildren();
  for (const chat of state.chats) {
    const item = el("button", "chat-item" + (chat.id === state.current ? " active" : ""));
    item.type = "button";
    item.dataset.chatId = String(chat.id);
    const avatar = el("div", "avatar", chat.title.slice(0, 1));
    avatar.style.background = chat.type === "private" ? colour(chat.id) : "#e17076";
    const text = el("div", "chat-item-text");
    text.append(el("div", "chat-item-name", chat.title));
    const last = [...chatMessages(chat.id).values()].pop();
    const sub = chat.type === "private" ? "private chat with the bot" : "group · you are " + chat.user.first_name;
    text.append(el("div", "chat-item-sub", last ? last.text.split("\n")[0] : sub));
    item.append(avatar, text);
    const unread = state.unread.get(chat.id) || 0;
    if (unread) item.append(el("span", "badge unread", String(unread)));
    item.addEventListener("click", () => selectChat(chat.id));
    list.append(item);
  }
}

function colour(id) {
  const colours = ["#7bc862", "#65aadd", "#ee7aae", "#6ec9cb", "#faa774", "#a695e7"];
  return colours[Math.abs(id) % colours.length];
}

function selectChat(chatId) {
  state.current = chatId;
  state.unread.set(chatId, 0);
  const chat = state.chats.find((c) => c.id === chatId);
  $("chat-title").textContent = chat.type === "private"
    ? state.bot.first_name : chat.title;
  renderChatList();
  renderChat();
  updateStatus();
  $("composer-input").focus();
}

function updateStatus() {
  const status = $("chat-status");
  const online = state.socket && state.socket.readyState === WebSocket.OPEN;
  const chat = state.chats.find((c) => c.id === state.current);
  if (!online) {
    status.textContent = "connecting…";
    status.className = "chat-status";
  } else if (chat && chat.type !== "private") {
    status.textContent = "you, " + state.bot.first_name + " (@" + state.bot.username + ")";
    status.className = "chat-status";
  } else {
    status.textContent = "bot · @" + state.bot.username;
    status.className = "chat-status online";
  }
}

function applyEvent(event, live) {
  const messages = chatMessages(event.chat_id);
  if (event.type === "message") {
    const box = $("messages");
    const nearBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 80;
    const existed = messages.has(event.message.id);
    messages.set(event.message.id, event.message);
    if (!live) return;
    if (event.chat_id === state.current) {
      const node = renderMessage(event.chat_id, event.message);
      const old = box.querySelector('[data-message-id="' + event.message.id + '"]');
      if (old) old.replaceWith(node);
      else {
        const empty = box.querySelector(".empty");
        if (empty) empty.remove();
        box.append(node);
      }
      if (!existed && (nearBottom || event.message.from === "user")) box.scrollTop = box.scrollHeight;
    } else if (!existed && event.message.from === "bot") {
      state.unread.set(event.chat_id, (state.unread.get(event.chat_id) || 0) + 1);
    }
    renderChatList();
  } else if (event.type === "delete") {
    messages.delete(event.message_id);
    if (live && event.chat_id === state.current) renderChat();
  } else if (event.type === "answer") {
    const button = state.pressing.get(event.chat_id);
    if (button) button.classList.remove("pressing");
    state.pressing.delete(event.chat_id);
    if (event.text && event.chat_id === state.current) toast(event.text, event.show_alert);
  }
}

let toastTimer = null;
function toast(text, alert) {
  const node = $("toast");
  node.textContent = text;
  node.className = "toast" + (alert ? " alert" : "");
  node.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { node.hidden = true; }, alert ? 4000 : 2500);
}

async function post(path, body) {
  const response = await fetch(path, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  if (!response.ok) {
    const problem = await response.json().catch(() => ({ error: response.statusText }));
    throw new Error(problem.error || response.statusText);
  }
  return response.json();
}

async function sendText(text) {
  if (!text.trim() || state.current === null) return;
  try {
    await post("/api/chats/" + state.current + "/messages", { text });
  } catch (error) {
    toast("Not sent: " + error.message, false);
  }
}

async function press(chatId, messageId, data, node) {
  node.classList.add("pressing");
  state.pressing.set(chatId, node);
  setTimeout(() => node.classList.remove("pressing"), 5000);
  try {
    await post("/api/chats/" + chatId + "/buttons", { message_id: messageId, data });
  } catch (error) {
    node.classList.remove("pressing");
    toast("Button failed: " + error.message, false);
  }
}

function renderMenu() {
  const menu = $("menu");
  menu.replaceChildren();
  for (const command of state.commands) {
    const item = el("button", "menu-item");
    item.type = "button";
    item.append(el("span", "menu-command", "/" + command.command));
    item.append(el("span", "menu-description", command.description));
    item.addEventListener("click", () => {
      menu.hidden = true;
      sendText("/" + command.command);
    });
    menu.append(item);
  }
}

function connect() {
  const scheme = location.protocol === "https:" ? "wss://" : "ws://";
  const socket = new WebSocket(scheme + location.host + "/api/events");
  state.socket = socket;
  socket.addEventListener("open", updateStatus);
  socket.addEventListener("message", (message) => {
    const event = JSON.parse(message.data);
    if (event.type === "snapshot") {
      state.messages = new Map();
      for (const item of event.events) applyEvent(item, false);
      renderChatList();
      renderChat();
    } else {
      applyEvent(event, true);
    }
  });
  socket.addEventListener("close", () => {
    updateStatus();
    setTimeout(connect, 1000);
  });
}

async function main() {
  const response = await fetch("/api/chats");
  const info = await response.json();
  state.bot = info.bot;
  state.chats = info.chats;
  state.commands = info.commands || [];
  renderMenu();
  selectChat(state.chats[0].id);
  $("composer").addEventListener("submit", (event) => {
    event.preventDefault();
    const input = $("composer-input");
    const text = input.value;
    input.value = "";
    sendText(text);
  });
  $("menu-button").addEventListener("click", () => {
    $("menu").hidden = !$("menu").hidden || !state.commands.length;
  });
  connect();
}

document.addEventListener("DOMContentLoaded", main);

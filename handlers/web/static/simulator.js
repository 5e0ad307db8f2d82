// The browser simulator: renders the engine's neutral messages as a LINE chat and sends what the owner does.
// Every text from the server or the owner goes into the page with textContent, never as HTML.
(function () {
  "use strict";

  var STARTED_KEY = "madoguchi.simulator.started";
  var FEED_INTERVAL_MS = 4000;

  var config = JSON.parse(document.getElementById("sim-config").textContent);
  var chat = document.getElementById("chat");
  var quick = document.getElementById("quick");
  var composer = document.getElementById("composer");
  var input = document.getElementById("text");
  var sendButton = document.getElementById("send");
  var stickerButton = document.getElementById("sticker");
  var picker = document.getElementById("picker");
  var pickerInput = document.getElementById("picker-input");
  var pickerLabel = document.getElementById("picker-label");
  var feed = document.getElementById("feed");
  var feedEmpty = document.getElementById("feed-empty");
  var stickerArt = document.getElementById("sticker-art");
  var richMenu = document.getElementById("richmenu");
  var menuToggle = document.getElementById("menu-toggle");

  var clock = new Intl.DateTimeFormat("ja-JP", { timeZone: "Asia/Tokyo", hour: "2-digit", minute: "2-digit" });
  var busy = false;
  var openActions = [];
  var pickerAction = null;
  var lastSide = null;
  var seenReferences = null;

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function now() {
    return clock.format(new Date());
  }

  function scrollToEnd() {
    chat.scrollTop = chat.scrollHeight;
  }

  function storageGet(key) {
    try { return window.localStorage.getItem(key); } catch (e) { return null; }
  }

  function storageSet(key, value) {
    try { window.localStorage.setItem(key, value); } catch (e) { /* private mode: nothing to remember */ }
  }

  // Bubbles
  function botRow(first) {
    var row = el("div", "line-row out");
    var avatar = el("div", "line-avatar" + (first ? "" : " hidden"), "窓");
    avatar.setAttribute("aria-hidden", "true");
    var stack = el("div", "line-stack");
    if (first) stack.appendChild(el("div", "line-name", config.shortName));
    row.appendChild(avatar);
    row.appendChild(stack);
    return { row: row, stack: stack };
  }

  function addBotText(text, time) {
    var first = lastSide !== "bot";
    var parts = botRow(first);
    var bubble = el("div", "line-bubble" + (first ? " first" : ""), text);
    parts.stack.appendChild(bubble);
    var meta = el("div", "line-meta");
    meta.appendChild(el("span", "", time || now()));
    parts.row.appendChild(meta);
    chat.appendChild(parts.row);
    lastSide = "bot";
  }

  function ownerRow(content, time) {
    var first = lastSide !== "owner";
    var row = el("div", "line-row in");
    var meta = el("div", "line-meta");
    meta.appendChild(el("span", "", "既読"));
    meta.appendChild(el("span", "", time || now()));
    row.appendChild(meta);
    if (content.classList && content.classList.contains("line-bubble") && first) content.classList.add("first");
    row.appendChild(content);
    chat.appendChild(row);
    lastSide = "owner";
  }

  function addOwnerText(text, time) {
    ownerRow(el("div", "line-bubble", text), time);
  }

  function addOwnerSticker(time) {
    var art = stickerArt.content.firstElementChild.cloneNode(true);
    art.setAttribute("class", "line-sticker-image");
    ownerRow(art, time);
  }

  function addSystem(text) {
    var line = el("div", "line-system");
    line.appendChild(el("span", "", text));
    chat.appendChild(line);
    lastSide = null;
    scrollToEnd();
  }

  function showTyping() {
    var parts = botRow(lastSide !== "bot");
    parts.row.classList.add("line-typing");
    var bubble = el("div", "line-bubble");
    bubble.setAttribute("aria-label", "入力中");
    for (var i = 0; i < 3; i++) bubble.appendChild(el("i"));
    parts.stack.appendChild(bubble);
    chat.appendChild(parts.row);
    scrollToEnd();
    return parts.row;
  }

  // Quick replies (LINE shows those of the last message until the owner sends anything)
  function setQuickReplies(actions) {
    openActions = actions || [];
    quick.textContent = "";
    openActions.forEach(function (action) {
      var chip = el("button", "line-chip");
      chip.type = "button";
      if (action.type === "datetime") chip.classList.add("line-chip-datetime");
      chip.textContent = action.label;
      chip.addEventListener("click", function () { tap(action); });
      quick.appendChild(chip);
    });
    quick.scrollLeft = 0;
  }

  function showBotMessages(messages) {
    messages.forEach(function (m) { addBotText(m.text); });
    var last = messages[messages.length - 1];
    setQuickReplies(last ? last.actions : []);
    scrollToEnd();
  }

  // Talking to the server
  function post(path, body) {
    return fetch(path, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json" },
      body: JSON.stringify(body || {})
    }).then(function (response) {
      if (!response.ok) throw new Error("HTTP " + response.status);
      return response.json();
    });
  }

  function send(payload) {
    if (busy) return;
    busy = true;
    var previous = openActions;
    setQuickReplies([]);
    closePicker();
    var typing = showTyping();
    post("/sim/api/message", payload).then(function (reply) {
      typing.remove();
      lastSide = "owner";
      showBotMessages(reply.messages || []);
    }).catch(function () {
      typing.remove();
      addSystem("送信できませんでした。通信状態をご確認のうえ、もう一度お試しください。");
      setQuickReplies(previous);
    }).then(function () {
      busy = false;
      updateSendButton();
    });
  }

  function tap(action) {
    if (busy) return;
    if (action.type === "datetime") {
      openPicker(action);
      return;
    }
    addOwnerText(action.display || action.label);
    scrollToEnd();
    send({ kind: "postback", data: action.data, text: action.display || action.label });
  }

  function sendText() {
    var text = input.value;
    if (busy || !text.trim()) return;
    addOwnerText(text);
    scrollToEnd();
    input.value = "";
    resizeInput();
    send({ kind: "text", text: text });
  }

  // The menu under the chat sends its text as if typed, as LINE's rich menu does.
  function sendMenuText(text) {
    if (busy || !text) return;
    addOwnerText(text);
    scrollToEnd();
    send({ kind: "text", text: text });
  }

  function sendSticker() {
    if (busy) return;
    addOwnerSticker();
    scrollToEnd();
    send({ kind: "sticker" });
  }

  // The date-and-time picker
  function openPicker(action) {
    pickerAction = action;
    pickerLabel.textContent = action.label;
    pickerInput.min = action.min || "";
    pickerInput.max = action.max || "";
    pickerInput.value = action.initial || action.min || "";
    picker.hidden = false;
    pickerInput.focus();
  }

  function closePicker() {
    picker.hidden = true;
    pickerAction = null;
  }

  function choosePicked() {
    var value = (pickerInput.value || "").slice(0, 16);
    if (!pickerAction || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/.test(value)) {
      pickerInput.focus();
      return;
    }
    if ((pickerAction.min && value < pickerAction.min) || (pickerAction.max && value > pickerAction.max)) {
      pickerLabel.textContent = "選べる範囲の日時をお選びください。";
      return;
    }
    var shown = value.replace("T", " ").replace(/-/g, "/");
    var action = pickerAction;
    addOwnerText(shown);
    scrollToEnd();
    send({ kind: "postback", data: action.data, text: shown, params: { datetime: value } });
  }

  // The input box
  function resizeInput() {
    input.style.height = "auto";
    input.style.height = Math.min(input.scrollHeight + 2, 120) + "px";
    updateSendButton();
  }

  function updateSendButton() {
    sendButton.disabled = busy || !input.value.trim();
  }

  composer.addEventListener("submit", function (event) {
    event.preventDefault();
    sendText();
  });
  input.addEventListener("input", resizeInput);
  input.addEventListener("keydown", function (event) {
    // Enter sends on a keyboard; Shift+Enter is a new line; Enter that confirms a kana conversion is not a send.
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing && event.keyCode !== 229) {
      event.preventDefault();
      sendText();
    }
  });
  stickerButton.addEventListener("click", sendSticker);
  Array.prototype.forEach.call(richMenu.querySelectorAll("[data-text]"), function (item) {
    item.addEventListener("click", function () { sendMenuText(item.getAttribute("data-text")); });
  });
  menuToggle.addEventListener("click", function () {
    richMenu.hidden = !richMenu.hidden;
    menuToggle.setAttribute("aria-expanded", String(!richMenu.hidden));
  });
  document.getElementById("picker-ok").addEventListener("click", choosePicked);
  document.getElementById("picker-cancel").addEventListener("click", closePicker);

  // Start: restore this visitor's conversation, or greet a new one (once per browser)
  function restore(history) {
    (history.messages || []).forEach(function (m) {
      if (m.direction === "in") {
        if (m.kind === "sticker") addOwnerSticker(m.time);
        else addOwnerText(m.text || "［" + m.kind + "］", m.time);
      } else {
        addBotText(m.text, m.time);
      }
    });
    setQuickReplies(history.actions || []);
    scrollToEnd();
  }

  function greet() {
    storageSet(STARTED_KEY, "1");
    return post("/sim/api/start").then(function (reply) { showBotMessages(reply.messages || []); });
  }

  function begin() {
    busy = true;
    fetch("/sim/api/history", { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      })
      .then(function (history) {
        if (history.messages && history.messages.length) {
          restore(history);
          return null;
        }
        // Nothing stored for this browser's cookie: a first visit, or the demo data was reset.
        return greet();
      })
      .catch(function () {
        if (!storageGet(STARTED_KEY)) return greet();
        addSystem("接続できませんでした。ページを再読み込みのうえ、もう一度お試しください。");
        return null;
      })
      .catch(function () {
        addSystem("接続できませんでした。ページを再読み込みのうえ、もう一度お試しください。");
      })
      .then(function () {
        busy = false;
        updateSendButton();
      });
  }

  // The coordinator's pane: the latest consultations
  function feedItem(item, fresh) {
    var li = el("li", "slack-item" + (fresh ? " fresh" : ""));
    var avatar = el("div", "slack-avatar", "窓");
    avatar.setAttribute("aria-hidden", "true");
    li.appendChild(avatar);
    var body = el("div", "slack-body");
    var head = el("div", "slack-head");
    head.appendChild(el("b", "", "窓口ボット"));
    head.appendChild(el("span", "slack-app", "アプリ"));
    head.appendChild(el("span", "slack-time", item.submitted_at));
    body.appendChild(head);
    var title = el("div", "slack-title");
    title.appendChild(document.createTextNode("新しいご相談 "));
    title.appendChild(el("b", "", item.reference));
    title.appendChild(document.createTextNode(" "));
    title.appendChild(el("span", "slack-status", item.status_label));
    body.appendChild(title);
    var card = el("dl", "slack-card");
    [["会社名", item.company_name], ["所在地", item.municipality], ["分野", item.category],
     ["方法", item.method], ["受付", item.channel === "web" ? "Webフォーム" : item.channel === "line" ? "LINE" : "シミュレーター"]]
      .forEach(function (pair) {
        card.appendChild(el("dt", "", pair[0]));
        card.appendChild(el("dd", "", pair[1] || "—"));
      });
    body.appendChild(card);
    li.appendChild(body);
    return li;
  }

  function refreshFeed() {
    if (document.hidden) return;
    fetch("/sim/api/desk", { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (!data) return;
        var items = data.items || [];
        var known = seenReferences;
        feed.textContent = "";
        items.forEach(function (item) {
          feed.appendChild(feedItem(item, known !== null && !known[item.reference]));
        });
        seenReferences = {};
        items.forEach(function (item) { seenReferences[item.reference] = true; });
        feedEmpty.hidden = items.length > 0;
      })
      .catch(function () { /* the next refresh tries again */ });
  }

  begin();
  refreshFeed();
  window.setInterval(refreshFeed, FEED_INTERVAL_MS);
  document.addEventListener("visibilitychange", refreshFeed);
})();

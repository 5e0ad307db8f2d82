// The browser simulator: renders the engine's neutral messages as a LINE chat and sends what the owner does.
// Every text from the server or the owner goes into the page with textContent, never as HTML.
(function () {
  "use strict";

  var STARTED_KEY = "madoguchi.simulator.started";
  var FEED_INTERVAL_MS = 3000;
  var INBOX_INTERVAL_MS = 2000;

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
      if (action.data) chip.setAttribute("data-postback", action.data);
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

  // The coordinator's pane: the Slack cards of this browser's requests, drawn from the same Block Kit
  // blocks Slack gets (handlers/slack/cards.py), their buttons answered as Slack's listeners answer them.
  var people = {};

  // Slack's mrkdwn, as far as the card uses it: *bold*, <@U…> mentions, <url|label> links, line breaks,
  // and its escaping (&amp; &lt; &gt;). Everything goes in as text nodes.
  function unescapeSlack(text) {
    return text.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
  }

  function appendBold(parent, text) {
    var parts = text.split(/\*([^*\n]+)\*/);
    parts.forEach(function (part, i) {
      if (!part) return;
      if (i % 2 === 1) parent.appendChild(el("b", "", unescapeSlack(part)));
      else parent.appendChild(document.createTextNode(unescapeSlack(part)));
    });
  }

  function mrkdwn(text) {
    var span = el("span", "bk-text");
    String(text || "").split("\n").forEach(function (line, index) {
      if (index > 0) span.appendChild(document.createElement("br"));
      var pieces = line.split(/<([^<>]+)>/);
      pieces.forEach(function (piece, i) {
        if (i % 2 === 0) { appendBold(span, piece); return; }
        if (/^@[UW][A-Z0-9]+$/.test(piece)) {
          span.appendChild(el("span", "bk-mention", "@" + (people[piece.slice(1)] || piece.slice(1))));
        } else {
          var bar = piece.indexOf("|");
          span.appendChild(el("span", "bk-link", unescapeSlack(bar >= 0 ? piece.slice(bar + 1) : piece)));
        }
      });
    });
    return span;
  }

  function textObject(object) {
    if (!object) return el("span");
    return object.type === "mrkdwn" ? mrkdwn(object.text) : el("span", "bk-text", object.text);
  }

  function renderBlock(block, card) {
    switch (block.type) {
      case "header":
        return el("div", "bk-header", block.text ? block.text.text : "");
      case "section": {
        var section = el("div", "bk-section");
        if (block.text) section.appendChild(textObject(block.text));
        if (block.fields) {
          var fields = el("div", "bk-fields");
          block.fields.forEach(function (field) { fields.appendChild(el("div", "bk-field")).appendChild(textObject(field)); });
          section.appendChild(fields);
        }
        return section;
      }
      case "context": {
        var context = el("div", "bk-context");
        (block.elements || []).forEach(function (item) { if (item.text) context.appendChild(textObject(item)); });
        return context;
      }
      case "divider":
        return el("hr", "bk-divider");
      case "actions": {
        var row = el("div", "bk-actions");
        (block.elements || []).forEach(function (item) {
          if (item.type !== "button") return;
          var button = el("button", "bk-button" + (item.style ? " " + item.style : ""), item.text.text);
          button.type = "button";
          button.setAttribute("data-action-id", item.action_id);
          button.addEventListener("click", function () { press(card, item, button); });
          row.appendChild(button);
        });
        return row;
      }
      default:
        return null; // a block the card does not use
    }
  }

  function renderBlocks(blocks, card) {
    var box = el("div", "bk-blocks");
    (blocks || []).forEach(function (block) {
      var node = renderBlock(block, card);
      if (node) box.appendChild(node);
    });
    return box;
  }

  // Slack's ephemeral message: shown to the clicker only, under the card
  var notes = {};

  function showNote(cardId, text) {
    if (!text) { delete notes[cardId]; } else { notes[cardId] = text; }
    var item = feed.querySelector('[data-card-id="' + cardId + '"]');
    if (item) placeNote(item, cardId);
  }

  function placeNote(item, cardId) {
    var old = item.querySelector(".bk-ephemeral");
    if (old) old.remove();
    if (!notes[cardId]) return;
    var note = el("div", "bk-ephemeral");
    note.setAttribute("role", "status");
    note.appendChild(el("div", "bk-ephemeral-label", "あなただけに表示されています"));
    note.appendChild(mrkdwn(notes[cardId]));
    var close = el("button", "bk-ephemeral-close", "閉じる");
    close.type = "button";
    close.addEventListener("click", function () { showNote(cardId, null); });
    note.appendChild(close);
    item.querySelector(".slack-body").appendChild(note);
  }

  function press(card, element, button) {
    button.disabled = true;
    post("/sim/api/desk/action", { action_id: element.action_id, value: element.value || "" })
      .then(function (answer) {
        if (answer.modal) openModal(card, answer.modal);
        showNote(card.id, answer.note);
      })
      .catch(function () { showNote(card.id, "操作できませんでした。もう一度お試しください。"); })
      .then(function () {
        button.disabled = false;
        refreshDesk();
        checkInbox();
      });
  }

  // A modal (Slack's views.open), as a dialog: sections and inputs (a choice, a text), submit and close
  var modal = document.getElementById("modal");
  var modalForm = document.getElementById("modal-form");
  var modalTitle = document.getElementById("modal-title");
  var modalBody = document.getElementById("modal-body");
  var modalSubmit = document.getElementById("modal-submit");
  var modalClose = document.getElementById("modal-close");
  var openView = null;

  function optionText(option) {
    return option && option.text ? option.text.text : "";
  }

  // A group of choices (checkboxes, radio buttons): a fieldset whose inputs each carry their option's value
  function choiceGroup(block, element, id) {
    var group = el("fieldset", "bk-choices");
    group.setAttribute("aria-labelledby", id + "-label");
    var radio = element.type === "radio_buttons";
    var initial = {};
    (element.initial_options || []).forEach(function (o) { initial[o.value] = true; });
    if (element.initial_option) initial[element.initial_option.value] = true;
    (element.options || []).forEach(function (option, index) {
      var row = el("label", "bk-choice");
      var box = el("input");
      box.type = radio ? "radio" : "checkbox";
      box.name = id;
      box.value = option.value;
      box.checked = !!initial[option.value];
      if (radio && !block.optional && index === 0) box.required = true;
      row.appendChild(box);
      row.appendChild(el("span", "", optionText(option)));
      group.appendChild(row);
    });
    return group;
  }

  function modalInput(block) {
    var wrap = el("div", "bk-input");
    var id = "bk-" + block.block_id;
    var label = el("label", "bk-label", block.label ? block.label.text : "");
    label.id = id + "-label";
    if (block.optional && label.textContent.indexOf("任意") < 0) label.appendChild(el("span", "bk-optional", "（任意）"));
    wrap.appendChild(label);
    var element = block.element || {};
    var control;
    if (element.type === "static_select" || element.type === "multi_static_select") {
      control = el("select");
      control.multiple = element.type === "multi_static_select";
      (element.options || []).forEach(function (option) {
        var node = el("option", "", optionText(option));
        node.value = option.value;
        control.appendChild(node);
      });
      if (element.initial_option) control.value = element.initial_option.value;
      else if (!control.multiple) control.selectedIndex = -1;
      if (control.multiple) control.size = Math.min((element.options || []).length, 6);
    } else if (element.type === "checkboxes" || element.type === "radio_buttons") {
      control = choiceGroup(block, element, id);
    } else if (element.type === "datepicker" || element.type === "timepicker") {
      control = el("input");
      control.type = element.type === "datepicker" ? "date" : "time";
      control.value = element.initial_date || element.initial_time || "";
    } else if (element.type === "datetimepicker") {
      control = el("input");
      control.type = "datetime-local";
      control.step = 60;
      if (element.initial_date_time) control.value = jstLocal(element.initial_date_time);
    } else if (element.type === "number_input") {
      control = el("input");
      control.type = "number";
      control.step = element.is_decimal_allowed ? "any" : "1";
      if (element.min_value) control.min = element.min_value;
      if (element.max_value) control.max = element.max_value;
      if (element.initial_value) control.value = element.initial_value;
    } else if (element.type === "plain_text_input") {
      control = el(element.multiline ? "textarea" : "input");
      if (!element.multiline) control.type = "text";
      if (element.max_length) control.maxLength = element.max_length;
      if (element.initial_value) control.value = element.initial_value;
    } else {
      wrap.appendChild(el("p", "bk-text", "この入力欄は、デモではまだお試しいただけません。"));
      return wrap;
    }
    if (control.tagName !== "FIELDSET") {
      label.htmlFor = id;
      control.id = id;
      control.required = !block.optional;
    }
    control.setAttribute("data-block-id", block.block_id);
    control.setAttribute("data-action-id", element.action_id);
    control.setAttribute("data-kind", element.type);
    wrap.appendChild(control);
    var error = el("div", "bk-error");
    error.setAttribute("data-error-for", block.block_id);
    error.hidden = true;
    wrap.appendChild(error);
    return wrap;
  }

  // Slack's datetimepicker speaks in epoch seconds; the demo's desk is in Japan, so its wall clock is JST
  function jstLocal(seconds) {
    var d = new Date((Number(seconds) + 9 * 3600) * 1000);
    return d.toISOString().slice(0, 16);
  }

  function jstSeconds(local) {
    var m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(local || "");
    if (!m) return null;
    return Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4] - 9, +m[5]) / 1000;
  }

  function openModal(card, view) {
    openView = { card: card, view: view };
    modalTitle.textContent = view.title ? view.title.text : "";
    modalBody.textContent = "";
    (view.blocks || []).forEach(function (block) {
      if (block.type === "input") modalBody.appendChild(modalInput(block));
      else {
        var node = renderBlock(block, card);
        if (node) modalBody.appendChild(node);
      }
    });
    modalSubmit.hidden = !view.submit;
    modalSubmit.textContent = view.submit ? view.submit.text : "";
    modalClose.textContent = view.close ? view.close.text : "閉じる";
    if (typeof modal.showModal === "function") modal.showModal(); else modal.setAttribute("open", "");
  }

  function closeModal() {
    openView = null;
    if (typeof modal.close === "function" && modal.open) modal.close(); else modal.removeAttribute("open");
  }

  function checkedValues(control) {
    return Array.prototype.map.call(control.querySelectorAll("input:checked"), function (box) {
      return { value: box.value };
    });
  }

  function modalValues() {
    var values = {};
    Array.prototype.forEach.call(modalBody.querySelectorAll("[data-block-id]"), function (control) {
      var block = control.getAttribute("data-block-id");
      var action = control.getAttribute("data-action-id");
      var kind = control.getAttribute("data-kind");
      var state;
      if (kind === "static_select") state = { selected_option: control.value ? { value: control.value } : null };
      else if (kind === "multi_static_select") {
        state = { selected_options: Array.prototype.map.call(control.selectedOptions, function (o) { return { value: o.value }; }) };
      } else if (kind === "checkboxes") state = { selected_options: checkedValues(control) };
      else if (kind === "radio_buttons") state = { selected_option: checkedValues(control)[0] || null };
      else if (kind === "datepicker") state = { selected_date: control.value || null };
      else if (kind === "timepicker") state = { selected_time: control.value || null };
      else if (kind === "datetimepicker") state = { selected_date_time: jstSeconds(control.value) };
      else state = { value: control.value || null };
      values[block] = {};
      values[block][action] = state;
    });
    return values;
  }

  modalForm.addEventListener("submit", function (event) {
    event.preventDefault();
    if (!openView) return;
    var current = openView;
    modalSubmit.disabled = true;
    post("/sim/api/desk/view", {
      callback_id: current.view.callback_id,
      private_metadata: current.view.private_metadata || "",
      values: modalValues()
    }).then(function (answer) {
      if (answer.errors && Object.keys(answer.errors).length) {
        showErrors(answer.errors); // Slack's response_action "errors": the modal stays open
        return;
      }
      closeModal();
      showNote(current.card.id, answer.note);
    }).catch(function () {
      showNote(current.card.id, "送信できませんでした。もう一度お試しください。");
      closeModal();
    }).then(function () {
      modalSubmit.disabled = false;
      refreshDesk();
      checkInbox();
    });
  });
  modalClose.addEventListener("click", closeModal);

  function showErrors(errors) {
    var first = null;
    Array.prototype.forEach.call(modalBody.querySelectorAll("[data-error-for]"), function (box) {
      var text = errors[box.getAttribute("data-error-for")];
      box.textContent = text || "";
      box.hidden = !text;
      if (text && !first) first = box;
    });
    if (first) first.scrollIntoView({ block: "nearest" });
  }

  function cardItem(card, fresh) {
    var li = el("li", "slack-item" + (fresh ? " fresh" : ""));
    li.setAttribute("data-card-id", String(card.id));
    var avatar = el("div", "slack-avatar", "窓");
    avatar.setAttribute("aria-hidden", "true");
    li.appendChild(avatar);
    var body = el("div", "slack-body");
    var head = el("div", "slack-head");
    head.appendChild(el("b", "", "窓口アシスタント"));
    head.appendChild(el("span", "slack-app", "アプリ"));
    body.appendChild(head);
    body.appendChild(renderBlocks(card.blocks, card));
    body.appendChild(threadOf(card));
    li.appendChild(body);
    placeNote(li, card.id);
    return li;
  }

  // The card's thread: what the owner wrote after submission and the desk's replies; a reply typed here
  // reaches the owner on LINE (a memo: stays here), as in Slack.
  var drafts = {};

  function threadOf(card) {
    var thread = el("div", "slack-thread");
    thread.setAttribute("data-thread-for", String(card.id));
    var replies = card.thread || [];
    if (replies.length) thread.appendChild(el("div", "slack-thread-count", replies.length + "件の返信"));
    replies.forEach(function (reply) {
      var item = el("div", "slack-reply");
      var head = el("div", "slack-head");
      head.appendChild(el("b", "", reply.user ? (people[reply.user] || reply.user) : "窓口アシスタント"));
      if (!reply.user) head.appendChild(el("span", "slack-app", "アプリ"));
      head.appendChild(el("span", "slack-time", reply.time || ""));
      item.appendChild(head);
      item.appendChild(mrkdwn(reply.text));
      thread.appendChild(item);
    });
    var form = el("form", "slack-reply-form");
    var box = el("textarea");
    box.rows = 1;
    box.maxLength = 4000;
    box.placeholder = "スレッドに返信する";
    box.setAttribute("aria-label", "スレッドに返信する");
    box.value = drafts[card.id] || "";
    box.addEventListener("input", function () { drafts[card.id] = box.value; });
    box.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing && event.keyCode !== 229) {
        event.preventDefault();
        sendReply(card, box);
      }
    });
    var send = el("button", "bk-button primary", "送信");
    send.type = "submit";
    form.appendChild(box);
    form.appendChild(send);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      sendReply(card, box);
    });
    thread.appendChild(form);
    thread.appendChild(el("div", "slack-thread-hint", "「memo:」で始めると、お客様のLINEには送られません。"));
    return thread;
  }

  function sendReply(card, box) {
    var text = box.value;
    if (!text.trim() || box.disabled) return;
    box.disabled = true;
    post("/sim/api/desk/reply", { consultation_id: card.id, text: text }).then(function (answer) {
      delete drafts[card.id];
      box.value = "";
      showNote(card.id, answer.note);
    }).catch(function () {
      showNote(card.id, "送信できませんでした。もう一度お試しください。");
    }).then(function () {
      box.disabled = false;
      refreshDesk();
      checkInbox();
    });
  }

  var shownCards = "";

  function refreshDesk() {
    if (document.hidden) return;
    fetch("/sim/api/desk", { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (!data) return;
        people = data.people || {};
        var cards = data.cards || [];
        var drawn = JSON.stringify(cards);
        if (drawn === shownCards) return; // nothing changed: keep the pane (and any focus) as it is
        shownCards = drawn;
        var known = seenReferences;
        var focused = document.activeElement && document.activeElement.closest("[data-thread-for]");
        var focusedCard = focused ? focused.getAttribute("data-thread-for") : null;
        feed.textContent = "";
        cards.forEach(function (card) {
          feed.appendChild(cardItem(card, known !== null && !known[card.reference]));
        });
        seenReferences = {};
        cards.forEach(function (card) { seenReferences[card.reference] = true; });
        feedEmpty.hidden = cards.length > 0;
        if (focusedCard) {  // the coordinator was typing a reply: keep them there
          var box = feed.querySelector('[data-thread-for="' + focusedCard + '"] textarea');
          if (box) { box.focus(); return; }
        }
        feed.scrollTop = feed.scrollHeight;
      })
      .catch(function () { /* the next refresh tries again */ });
  }

  // What LINE would push to the owner meanwhile (a coordinator's decision): collected from the outbox
  var inboxBusy = false;

  function checkInbox() {
    if (busy || inboxBusy) return;
    inboxBusy = true;
    post("/sim/api/inbox").then(function (reply) {
      var messages = reply.messages || [];
      if (messages.length) {
        lastSide = null;
        showBotMessages(messages);
      }
    }).catch(function () { /* the next poll tries again */ }).then(function () { inboxBusy = false; });
  }

  begin();
  refreshDesk();
  window.setInterval(refreshDesk, FEED_INTERVAL_MS);
  window.setInterval(function () { if (!document.hidden) checkInbox(); }, INBOX_INTERVAL_MS);
  document.addEventListener("visibilitychange", refreshDesk);
})();

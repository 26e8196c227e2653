// The live page: plain browser JavaScript, no build step. Speaks protocol v1 (gateway/README.md).
// The token travels as a WebSocket subprotocol ("bearer.<token>"), never in the URL.
// With the token's "feedback" scope, each result can be corrected and the correction is sent as a
// `feedback` message (the gateway validates it and produces it to the feedback topic).
'use strict';
(function () {
  const $ = (id) => document.getElementById(id);
  const state = {
    ws: null,
    texts: new Map(),
    cards: new Map(),
    refs: 0,
    retry: 0,
    wantOpen: false,
    allSub: null,
    scopes: [],
    /** ref of a sent correction → its status element and button. */
    pending: new Map(),
    /** Labels offered in the correction menus: the default model's, plus every one seen in results. */
    sentimentLabels: new Set(['negative', 'positive']),
    entityLabels: new Set(['PER', 'ORG', 'LOC', 'MISC']),
  };
  const MAX_CARDS = 200;

  $('token').value = sessionStorage.getItem('trident.token') || '';

  function setStatus(text, cls) {
    const s = $('status');
    s.textContent = text;
    s.className = 'status ' + cls;
    $('send').disabled = cls !== 'on';
  }
  function notice(text) {
    $('notice').textContent = text || '';
  }
  function send(message) {
    if (state.ws && state.ws.readyState === WebSocket.OPEN) state.ws.send(JSON.stringify(Object.assign({ v: 1 }, message)));
  }

  function connect() {
    const token = $('token').value.trim();
    if (!token) return notice('paste an API token first (trident token create --scopes submit,subscribe)');
    sessionStorage.setItem('trident.token', token);
    if (state.ws) state.ws.close(1000);
    state.wantOpen = true;
    setStatus('connecting…', 'wait');
    const url = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/v1/ws';
    const ws = new WebSocket(url, ['trident.v1', 'bearer.' + token]);
    state.ws = ws;
    ws.onmessage = (e) => onMessage(JSON.parse(e.data));
    ws.onclose = (e) => {
      if (state.ws !== ws) return;
      state.ws = null;
      state.allSub = null;
      const reasons = {
        4401: 'token refused',
        4403: 'token lacks a scope',
        4408: 'no auth in time',
        4409: 'too slow, disconnected',
        4429: 'too many sockets for this token',
      };
      setStatus(reasons[e.code] || 'disconnected', 'off');
      // Reconnect after network trouble, not after a refusal.
      if (state.wantOpen && !reasons[e.code] && e.code !== 1000) {
        const delay = Math.min(10000, 500 * 2 ** state.retry++);
        setTimeout(() => state.wantOpen && !state.ws && connect(), delay);
      }
    };
  }

  function onMessage(m) {
    switch (m.type) {
      case 'welcome':
        state.retry = 0;
        state.scopes = m.scopes || [];
        for (const c of state.cards.values()) c.corrections.hidden = !canCorrect();
        setStatus('connected as ' + m.token, 'on');
        notice('');
        if ($('all').checked) subscribeAll();
        break;
      case 'accepted':
        notice('');
        break;
      case 'subscribed':
        state.allSub = m.subscription;
        break;
      case 'result':
        onResult(m.task, m.data);
        break;
      case 'lagged':
        notice('missed ' + m.missed + ' results (this page fell behind)');
        break;
      case 'feedbackAccepted':
        settleFeedback(m.ref, 'ok', 'correction accepted (source ' + m.source + ')');
        break;
      case 'error':
        if (m.ref !== undefined && state.pending.has(m.ref)) settleFeedback(m.ref, 'err', m.code + ': ' + m.message);
        else notice(m.code + ': ' + m.message);
        break;
    }
  }

  function subscribeAll() {
    send({ type: 'subscribe', subscription: 'all', ref: 'all' });
  }

  $('auth').addEventListener('submit', (e) => {
    e.preventDefault();
    connect();
  });
  $('all').addEventListener('change', () => {
    if ($('all').checked) subscribeAll();
    else if (state.allSub) {
      send({ type: 'unsubscribe', subscription: state.allSub });
      state.allSub = null;
    }
  });
  $('submit-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const text = $('text').value;
    if (!text.trim()) return notice('type a text first');
    const tasks = Array.from(document.querySelectorAll('#tasks input:checked')).map((i) => i.value);
    const question = $('question').value.trim();
    if (tasks.includes('answers') && !question) return notice('the answers task needs a question');
    const id = crypto.randomUUID ? crypto.randomUUID() : 'web-' + Date.now() + '-' + Math.random().toString(16).slice(2);
    state.texts.set(id, text);
    card(id, text);
    const record = { id: id, text: text, tasks: tasks.length ? tasks : undefined, questions: question ? [question] : undefined };
    send({ type: 'submit', ref: 'r' + ++state.refs, text: record });
  });

  // ---- rendering (textContent only: result data is never parsed as HTML) ----

  function el(tag, cls, text) {
    const n = document.createElement(tag);
    if (cls) n.className = cls;
    if (text !== undefined) n.textContent = text;
    return n;
  }

  function card(id, text) {
    let c = state.cards.get(id);
    if (c) return c;
    const root = el('article', 'card');
    root.dataset.id = id;
    const meta = el('div', 'meta');
    meta.append(el('span', 'id', id));
    const sentiment = el('span', 'sentiment');
    meta.append(sentiment);
    const body = el('div', 'text', text || '');
    const answers = el('div', 'answers');
    const categories = el('div', 'categories');
    const corrections = el('div', 'corrections');
    corrections.hidden = !canCorrect();
    root.append(meta, body, answers, categories, corrections);
    $('results').prepend(root);
    c = {
      id,
      root,
      meta,
      sentiment,
      body,
      answers,
      categories,
      corrections,
      text: text || null,
      entities: null,
      /** The entity spans being corrected (null: none yet); shown in the text instead of the result's. */
      draft: null,
      /** The last text selected in this card's text, as UTF-16 offsets. */
      selection: null,
      editors: {},
      /** The latest result per task. */
      results: {},
      /** Editors that show or use the selection refresh through these. */
      showSelection: new Map(),
    };
    state.cards.set(id, c);
    while (state.cards.size > MAX_CARDS) {
      const [oldest, old] = state.cards.entries().next().value;
      old.root.remove();
      state.cards.delete(oldest);
      state.texts.delete(oldest);
    }
    return c;
  }

  function onResult(task, r) {
    const c = card(r.id, state.texts.get(r.id) || r.text);
    c.results[task] = r;
    if (!c.text && r.text) {
      // Results read from the stream may carry the text only with entities/answers: now the others can be corrected too.
      c.text = r.text;
      for (const [t, other] of Object.entries(c.results)) if (t !== task) editor(c, t, other);
    }
    c.root.dataset[task] = 'done';
    if (task === 'sentiment') {
      c.sentiment.replaceChildren(el('span', 'label ' + String(r.label).toLowerCase(), r.label));
      const score = r.scores && r.scores[r.label];
      if (typeof score === 'number') c.sentiment.append(' ' + (score * 100).toFixed(0) + '%');
    } else if (task === 'entities') {
      c.entities = r.entities;
      renderText(c);
    } else if (task === 'answers') {
      c.answers.replaceChildren();
      for (const a of r.answers) {
        c.answers.append(el('div', 'q', 'Q: ' + a.question));
        if (a.answer === null || a.start === null || a.end === null || !c.text) {
          c.answers.append(el('div', 'ctx', a.answer === null ? '(no answer)' : 'A: ' + a.answer));
          continue;
        }
        c.answers.append(context(c.text, a.start, a.end, a.score));
      }
    } else if (task === 'categories') {
      c.categories.replaceChildren();
      for (const [head, labels] of Object.entries(r.categories || {})) {
        const top = labels[0];
        if (top) c.categories.append(el('div', '', head + ': ' + top.label + ' (' + (top.score * 100).toFixed(0) + '%)'));
      }
    }
    c.meta.dataset.model = r.modelName + ' ' + r.modelVersion;
    editor(c, task, r);
  }

  /** The text with entities highlighted from their UTF-16 offsets (overlaps: the first one wins). */
  function renderText(c) {
    const text = c.text;
    if (!text) {
      c.body.replaceChildren(...(c.entities || []).map((e) => entityMark(e.text, e)));
      return;
    }
    const parts = [];
    let at = 0;
    const sorted = (c.draft || c.entities || []).slice().sort((a, b) => a.start - b.start || b.end - a.end);
    for (const e of sorted) {
      if (e.start < at || e.end > text.length || e.start >= e.end) continue;
      if (e.start > at) parts.push(document.createTextNode(text.slice(at, e.start)));
      parts.push(entityMark(text.slice(e.start, e.end), e));
      at = e.end;
    }
    if (at < text.length) parts.push(document.createTextNode(text.slice(at)));
    c.body.replaceChildren(...parts);
  }

  function entityMark(text, e) {
    const m = el('mark', 'entity ' + String(e.label).replace(/[^A-Za-z0-9_-]/g, ''), text);
    m.dataset.label = e.label;
    m.title = typeof e.score === 'number' ? e.label + ' ' + (e.score * 100).toFixed(0) + '%' : e.label + ' (corrected)';
    return m;
  }

  /** The answer marked inside up to 80 characters of context on each side. */
  function context(text, start, end, score) {
    const from = Math.max(0, start - 80);
    const to = Math.min(text.length, end + 80);
    const ctx = el('div', 'ctx');
    const mark = el('mark', 'answer', text.slice(start, end));
    mark.title = (score * 100).toFixed(0) + '%';
    ctx.append((from > 0 ? '…' : '') + text.slice(from, start), mark, text.slice(end, to) + (to < text.length ? '…' : ''));
    return ctx;
  }

  // ---- corrections (sent as feedback events; only with the token's "feedback" scope) ----

  function canCorrect() {
    return state.scopes.includes('feedback');
  }

  function button(text, onClick) {
    const b = el('button', '', text);
    b.type = 'button';
    b.addEventListener('click', onClick);
    return b;
  }

  function select(labelText, options, selected) {
    const s = document.createElement('select');
    for (const o of options) {
      const opt = el('option', '', o);
      opt.value = o;
      s.append(opt);
    }
    if (selected !== undefined) s.value = selected;
    const l = el('label', '', labelText + ' ');
    l.append(s);
    return { label: l, select: s };
  }

  function quote(c, start, end) {
    return '“' + c.text.slice(start, end) + '” ' + start + '–' + end;
  }

  /** A <details> editor per task of the card (rebuilt when its result arrives again). */
  function editor(c, task, r) {
    const old = c.editors[task];
    const d = el('details', 'editor');
    d.dataset.task = task;
    if (old && old.open) d.open = true;
    d.append(el('summary', '', 'Correct ' + task));
    if (!c.text) {
      d.append(el('p', 'hint', 'the text of this result is not known on this page, so it cannot be corrected here'));
    } else if (task === 'sentiment') sentimentEditor(c, r, d);
    else if (task === 'entities') entitiesEditor(c, r, d);
    else if (task === 'answers') answersEditor(c, r, d);
    else if (task === 'categories') categoriesEditor(c, r, d);
    if (old) old.replaceWith(d);
    c.editors[task] = d;
    // The same order on every card, whichever result came first.
    for (const t of ['sentiment', 'entities', 'answers', 'categories']) if (c.editors[t]) c.corrections.append(c.editors[t]);
  }

  /** A "Send correction" button and the status line it reports to. */
  function sender(container, build) {
    const status = el('span', 'fb-status');
    status.setAttribute('role', 'status');
    const b = button('Send correction', () => sendFeedback(build(), status, b));
    b.className = 'send-correction';
    const row = el('div', 'row');
    row.append(b, status);
    container.append(row);
  }

  function sentimentEditor(c, r, d) {
    if (r.label) state.sentimentLabels.add(r.label);
    for (const l of Object.keys(r.scores || {})) state.sentimentLabels.add(l);
    const labels = Array.from(state.sentimentLabels);
    const other = labels.find((l) => l !== r.label) || r.label;
    const s = select('Correct label', labels, other);
    d.append(s.label);
    sender(d, () => ({ id: c.id, text: c.text, task: 'sentiment', label: s.select.value, modelVersion: r.modelVersion }));
  }

  function categoriesEditor(c, r, d) {
    for (const [head, labels] of Object.entries(r.categories || {})) {
      const box = el('fieldset', 'head');
      box.dataset.head = head;
      box.append(el('legend', '', head));
      const listId = 'labels-' + c.id + '-' + head;
      const list = document.createElement('datalist');
      list.id = listId;
      for (const l of labels) {
        const opt = document.createElement('option');
        opt.value = l.label;
        list.append(opt);
      }
      const input = document.createElement('input');
      input.type = 'text';
      input.setAttribute('list', listId);
      input.placeholder = 'another label of ' + head + ', or a new one';
      const l = el('label', '', 'Correct label ');
      l.append(input);
      box.append(l, list);
      sender(box, () => ({
        id: c.id,
        text: c.text,
        task: 'categories',
        head: head,
        label: input.value.trim(),
        modelVersion: r.modelVersion,
      }));
      d.append(box);
    }
  }

  function entitiesEditor(c, r, d) {
    for (const e of r.entities || []) state.entityLabels.add(e.label);
    c.draft = (r.entities || []).map((e) => ({ label: e.label, start: e.start, end: e.end }));
    const list = el('ul', 'spans');
    const selected = el('span', 'sel');
    const add = select('as', Array.from(state.entityLabels));
    add.select.className = 'add-label';
    const addButton = button('Add span', () => {
      if (!c.selection) return;
      c.draft.push({ label: add.select.value, start: c.selection.start, end: c.selection.end });
      c.draft.sort((a, b) => a.start - b.start);
      redraw();
    });
    addButton.className = 'add-span';
    function redraw() {
      list.replaceChildren();
      c.draft.forEach((span, i) => {
        const li = el('li', '', quote(c, span.start, span.end) + ' ');
        const s = select('label', Array.from(state.entityLabels), span.label);
        s.select.addEventListener('change', () => {
          span.label = s.select.value;
          renderText(c);
        });
        const remove = button('Remove', () => {
          c.draft.splice(i, 1);
          redraw();
        });
        remove.setAttribute('aria-label', 'remove ' + c.text.slice(span.start, span.end));
        li.append(s.label, ' ', remove);
        list.append(li);
      });
      if (c.draft.length === 0) list.append(el('li', 'hint', 'no entities (sending this says the text has none)'));
      renderText(c);
    }
    const adder = el('div', 'row');
    adder.append(el('span', '', 'Selected text:'), selected, add.label, addButton);
    d.append(list, adder);
    redraw();
    watch(c, 'entities', [
      () => {
        selected.textContent = c.selection ? quote(c, c.selection.start, c.selection.end) : 'select text above to add a span';
        addButton.disabled = !c.selection;
      },
    ]);
    sender(d, () => ({ id: c.id, text: c.text, task: 'entities', entities: c.draft.slice(), modelVersion: r.modelVersion }));
  }

  function answersEditor(c, r, d) {
    const watchers = [];
    for (const a of r.answers || []) {
      const box = el('fieldset', 'question');
      box.append(el('legend', '', 'Q: ' + a.question));
      // The model's span to start with; "Mark" replaces it with the selected text.
      const span = a.start !== null && a.end !== null ? { start: a.start, end: a.end } : { start: null, end: null };
      const shown = el('span', 'ans', span.start !== null ? quote(c, span.start, span.end) : '(no answer marked)');
      const mark = button('Mark selected text as the answer', () => {
        if (!c.selection) return;
        span.start = c.selection.start;
        span.end = c.selection.end;
        shown.textContent = quote(c, span.start, span.end);
      });
      mark.className = 'mark-answer';
      const row = el('div', 'row');
      row.append(el('span', '', 'Answer:'), shown, mark);
      box.append(row);
      watchers.push(() => (mark.disabled = !c.selection));
      sender(box, () => ({
        id: c.id,
        text: c.text,
        task: 'answers',
        answer: span.start === null ? null : { question: a.question, start: span.start, end: span.end },
        modelVersion: r.modelVersion,
      }));
      d.append(box);
    }
    watch(c, 'answers', watchers);
  }

  /** Registers what refreshes when the card's selection changes (replacing the task's previous editor's). */
  function watch(c, task, watchers) {
    c.showSelection.set(task, watchers);
    watchers.forEach((f) => f());
  }

  function sendFeedback(feedback, status, b) {
    if (!state.ws || state.ws.readyState !== WebSocket.OPEN) {
      status.className = 'fb-status err';
      status.textContent = 'not connected';
      return;
    }
    const ref = 'f' + ++state.refs;
    state.pending.set(ref, { status, button: b });
    status.className = 'fb-status';
    status.textContent = 'sending…';
    b.disabled = true;
    send({ type: 'feedback', ref: ref, feedback: feedback });
  }

  function settleFeedback(ref, outcome, text) {
    const p = state.pending.get(ref);
    if (!p) return;
    state.pending.delete(ref);
    p.status.className = 'fb-status ' + outcome;
    p.status.textContent = text;
    p.button.disabled = false;
  }

  /** UTF-16 offset of (node, offset) within root's text (the marks' labels are CSS, not text). */
  function offsetIn(root, node, offset) {
    const r = document.createRange();
    r.selectNodeContents(root);
    r.setEnd(node, offset);
    return r.toString().length;
  }

  // Remember the last non-empty selection inside a card's text: clicking a button may clear it.
  document.addEventListener('selectionchange', () => {
    const sel = document.getSelection();
    if (!sel || sel.rangeCount === 0 || sel.isCollapsed) return;
    const range = sel.getRangeAt(0);
    for (const c of state.cards.values()) {
      if (!c.text || !c.body.contains(range.startContainer) || !c.body.contains(range.endContainer)) continue;
      let start = offsetIn(c.body, range.startContainer, range.startOffset);
      let end = offsetIn(c.body, range.endContainer, range.endOffset);
      while (start < end && /\s/.test(c.text[start])) start++;
      while (end > start && /\s/.test(c.text[end - 1])) end--;
      c.selection = start < end ? { start: start, end: end } : null;
      for (const watchers of c.showSelection.values()) watchers.forEach((f) => f());
      return;
    }
  });

  if ($('token').value) connect();
})();

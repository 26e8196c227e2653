// The live page: plain browser JavaScript, no build step. Speaks protocol v1 (gateway/README.md).
// The token travels as a WebSocket subprotocol ("bearer.<token>"), never in the URL.
'use strict';
(function () {
  const $ = (id) => document.getElementById(id);
  const state = { ws: null, texts: new Map(), cards: new Map(), refs: 0, retry: 0, wantOpen: false, allSub: null };
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
      case 'error':
        notice(m.code + ': ' + m.message);
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
    root.append(meta, body, answers, categories);
    $('results').prepend(root);
    c = { root, meta, sentiment, body, answers, categories, text: text || null, entities: null };
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
    if (!c.text && r.text) c.text = r.text;
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
    const sorted = (c.entities || []).slice().sort((a, b) => a.start - b.start || b.end - a.end);
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
    m.title = e.label + ' ' + (e.score * 100).toFixed(0) + '%';
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

  if ($('token').value) connect();
})();

// The HoloMUSH web client. It speaks the gateway's JSON WebSocket protocol on /ws
// (docs/design/gateway.md): lines up, game text down. The session outlives the socket: the
// gateway hands us a resume token, and after a drop (network, gateway restart) we reconnect
// and resume from the last event shown, so missed lines arrive once each.
// Game text is only ever put into the page as text (textContent), never as markup.
'use strict';

(() => {
  const STORE_KEY = 'holomush.session';
  const MAX_LINES = 2000;    // scrollback kept in the page
  const MAX_HISTORY = 100;   // input lines recalled with the arrows
  const MAX_SEEN = 2048;     // event ids remembered to drop a repeat after a resume
  const RECONNECT_FIRST_MS = 250;
  const RECONNECT_MAX_MS = 5000;
  const USERNAME = /^[A-Za-z][A-Za-z0-9_]{2,29}$/;
  const SECRET_LINE = /^\s*(connect|create)\s/i;
  // CSI, OSC and two-byte escape sequences, then any other control but tab and newline.
  const ANSI = /\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_])?/g;
  const CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/g;

  const $ = (id) => document.getElementById(id);
  const ui = {
    status: $('status'),
    login: $('login'),
    loginForm: $('login-form'),
    username: $('username'),
    password: $('password'),
    loginError: $('login-error'),
    output: $('output'),
    commandForm: $('command-form'),
    command: $('command'),
  };

  let socket = null;
  // connecting | login | resuming | playing | reconnecting | closed
  let state = 'connecting';
  let session = loadSession();  // {id, token, last, character}
  let lastEventId = session ? session.last : '';
  let echo = true;
  let loginPending = false;
  let ended = false;  // the game ended the session: do not resume, offer a new login
  let reconnectDelay = RECONNECT_FIRST_MS;
  let reconnectTimer = 0;
  const pending = [];  // lines typed while no socket is open
  const seen = new Set();
  const seenOrder = [];
  const history = [];
  let historyPos = 0;
  let draft = '';

  function loadSession() {
    try {
      const s = JSON.parse(sessionStorage.getItem(STORE_KEY));
      if (s && typeof s.id === 'string' && typeof s.token === 'string') {
        if (typeof s.last !== 'string') s.last = '';
        return s;
      }
    } catch (_) {
      // Unreadable: start without one.
    }
    return null;
  }

  function saveSession() {
    try {
      if (session) {
        sessionStorage.setItem(STORE_KEY, JSON.stringify(session));
      } else {
        sessionStorage.removeItem(STORE_KEY);
      }
    } catch (_) {
      // Storage refused (private mode): resuming still works until the page reloads.
    }
  }

  function clean(text) {
    return String(text).replace(ANSI, '').replace(CONTROL, '');
  }

  // Follow new output unless the player scrolled up to read; keep following when the
  // window changes size (a phone turned, a keyboard shown).
  let following = true;
  ui.output.addEventListener('scroll', () => {
    const out = ui.output;
    following = out.scrollTop + out.clientHeight >= out.scrollHeight - 8;
  });
  new ResizeObserver(() => {
    if (following) ui.output.scrollTop = ui.output.scrollHeight;
  }).observe(ui.output);

  function show(text, kind) {
    let t = clean(text);
    if (t.endsWith('\n')) t = t.slice(0, -1);
    const out = ui.output;
    const line = document.createElement('div');
    line.className = kind ? `line ${kind}` : 'line';
    line.textContent = t;
    out.appendChild(line);
    while (out.childElementCount > MAX_LINES) out.firstElementChild.remove();
    if (following) out.scrollTop = out.scrollHeight;
  }

  function setState(next) {
    state = next;
    const texts = {
      connecting: 'Connecting…',
      login: 'Connected. Log in or create an account.',
      resuming: 'Resuming your session…',
      playing: session && session.character ? `Playing as ${session.character}` : 'Playing',
      reconnecting: 'Reconnecting…',
      closed: 'Disconnected. Log in to play again.',
    };
    ui.status.textContent = texts[next];
    ui.status.dataset.state = next;
    const wantLogin = next === 'login' || next === 'closed';
    if (wantLogin && ui.login.hidden) {
      ui.login.hidden = false;
      ui.username.focus();
    } else if (!wantLogin && next !== 'connecting' && !ui.login.hidden) {
      ui.login.hidden = true;
    }
  }

  function rememberEvent(id) {
    seen.add(id);
    seenOrder.push(id);
    if (seenOrder.length > MAX_SEEN) seen.delete(seenOrder.shift());
  }

  function send(message) {
    if (socket && socket.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify(message));
      return true;
    }
    return false;
  }

  function sendLine(line) {
    if (!send({ type: 'command', line })) {
      pending.push(line);
      if (!socket) connect();
    }
  }

  function connect() {
    clearTimeout(reconnectTimer);
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const ws = new WebSocket(`${scheme}//${location.host}/ws`);
    socket = ws;
    ended = false;
    ws.addEventListener('open', () => {
      if (ws !== socket) return;
      reconnectDelay = RECONNECT_FIRST_MS;
      if (session) {
        setState('resuming');
        send({
          type: 'resume',
          session_id: session.id,
          resume_token: session.token,
          last_event_id: lastEventId || '',
        });
      } else {
        setState('login');
      }
      while (pending.length > 0) send({ type: 'command', line: pending.shift() });
    });
    ws.addEventListener('message', (e) => {
      if (ws === socket) handle(e.data);
    });
    ws.addEventListener('close', () => {
      if (ws !== socket) return;
      socket = null;
      if (ended) {
        setState('closed');
        return;
      }
      if (session) setState('reconnecting');
      else if (state !== 'closed') setState('connecting');
      const delay = reconnectDelay * (0.5 + Math.random());
      reconnectDelay = Math.min(reconnectDelay * 2, RECONNECT_MAX_MS);
      reconnectTimer = setTimeout(connect, delay);
    });
  }

  function handle(raw) {
    let m;
    try {
      m = JSON.parse(raw);
    } catch (_) {
      return;
    }
    if (!m || typeof m !== 'object') return;
    switch (m.type) {
      case 'output':
        // The greeting repeats on every connection; a resuming client has seen it.
        if (state === 'resuming') return;
        show(m.text);
        if (loginPending) ui.loginError.textContent = clean(m.text);
        return;
      case 'event':
        if (typeof m.id === 'string' && m.id !== '') {
          if (seen.has(m.id)) return;
          rememberEvent(m.id);
          if (m.id > lastEventId) {
            lastEventId = m.id;
            if (session) {
              session.last = lastEventId;
              saveSession();
            }
          }
        }
        show(m.text, `event event-${String(m.event).replace(/[^a-z_]/g, '')}`);
        return;
      case 'prompt':
        show(m.text, 'notice');
        return;
      case 'echo':
        echo = m.on !== false;
        ui.command.type = echo ? 'text' : 'password';
        ui.command.autocomplete = echo ? 'off' : 'current-password';
        return;
      case 'session': {
        // Also sent after core restarts under a playing session: then nothing changes here.
        const wasPlaying = state === 'playing';
        session = {
          id: String(m.session_id),
          token: String(m.resume_token),
          last: lastEventId,
          character: typeof m.character === 'string' ? m.character : '',
        };
        saveSession();
        loginPending = false;
        ui.loginError.textContent = '';
        ui.password.value = '';
        setState('playing');
        if (!wasPlaying) ui.command.focus();
        return;
      }
      case 'resume_refused':
        session = null;
        lastEventId = '';
        saveSession();
        show(m.text, 'notice');
        setState('login');
        return;
      case 'closed':
        show(m.reason, 'notice');
        if (!m.resume) {
          ended = true;
          session = null;
          lastEventId = '';
          saveSession();
        }
        return;
      case 'error':
        show(m.text, 'error');
        return;
      default:
    }
  }

  ui.loginForm.addEventListener('submit', (e) => {
    e.preventDefault();
    const verb = e.submitter && e.submitter.value === 'create' ? 'create' : 'connect';
    const user = ui.username.value.trim();
    const pass = ui.password.value;
    if (!USERNAME.test(user)) {
      ui.loginError.textContent =
        'A username is 3 to 30 letters, digits or _, starting with a letter.';
      ui.username.focus();
      return;
    }
    if (pass === '' || /[\r\n]/.test(pass)) {
      ui.loginError.textContent = 'Please enter a password (one line).';
      ui.password.focus();
      return;
    }
    ui.loginError.textContent = '';
    ui.password.value = '';
    loginPending = true;
    sendLine(`${verb} ${user} ${pass}`);
  });

  ui.commandForm.addEventListener('submit', (e) => {
    e.preventDefault();
    const line = ui.command.value;
    ui.command.value = '';
    if (!echo) {
      // A password asked for by the game: neither shown nor remembered.
      sendLine(line);
      return;
    }
    const secret = SECRET_LINE.test(line);
    if (line.trim() !== '' && !secret) {
      if (history[history.length - 1] !== line) history.push(line);
      if (history.length > MAX_HISTORY) history.shift();
    }
    historyPos = history.length;
    draft = '';
    if (state === 'playing' && !secret) show(`> ${line}`, 'mine');
    sendLine(line);
  });

  ui.command.addEventListener('keydown', (e) => {
    if (!echo || (e.key !== 'ArrowUp' && e.key !== 'ArrowDown')) return;
    if (e.key === 'ArrowUp') {
      if (historyPos === 0) return;
      if (historyPos === history.length) draft = ui.command.value;
      historyPos -= 1;
      ui.command.value = history[historyPos];
    } else {
      if (historyPos >= history.length) return;
      historyPos += 1;
      ui.command.value = historyPos === history.length ? draft : history[historyPos];
    }
    e.preventDefault();
    const end = ui.command.value.length;
    ui.command.setSelectionRange(end, end);
  });

  setState('connecting');
  connect();
})();

// dialogs.js — the modal dialogs: confirmation, the token prompt, and the
// rebalance and kill forms. Each returns a Promise of the answer, or null
// when the user cancels (button, Escape).

import {h, replace} from './dom.js';

let pending = null; // the resolve of the open dialog

/**
 * open shows the dialog. fields are nodes inside the form; read(form) turns
 * the form into the answer or throws an Error whose message is shown.
 */
function open({title, fields, ok = 'OK', danger = false, read = () => true, id = 'dialog-form'}) {
  const dlg = document.getElementById('dialog');
  if (pending) pending(null);
  return new Promise(resolve => {
    const err = h('p', {class: 'form-error', role: 'alert', hidden: true});
    const form = h('form', {id, novalidate: true},
      h('h3', null, title), fields, err,
      h('div', {class: 'buttons'},
        h('button', {type: 'button', class: 'btn', id: 'dialog-cancel', onclick: () => done(null)}, 'Cancel'),
        h('button', {type: 'submit', class: ['btn', danger ? 'btn-danger' : 'btn-primary'], id: 'dialog-ok'}, ok)));
    form.addEventListener('submit', ev => {
      ev.preventDefault();
      try {
        done(read(form));
      } catch (e) {
        err.textContent = e.message;
        err.hidden = false;
      }
    });
    const onCancel = ev => { ev.preventDefault(); done(null); };
    function done(v) {
      if (pending !== finish) return;
      finish(v);
    }
    function finish(v) {
      pending = null;
      dlg.removeEventListener('cancel', onCancel);
      if (dlg.open) dlg.close();
      replace(dlg);
      resolve(v);
    }
    pending = finish;
    dlg.addEventListener('cancel', onCancel);
    replace(dlg, form);
    dlg.showModal();
    const first = form.querySelector('input:not([disabled]), button[type=submit]');
    if (first) first.focus();
  });
}

/** confirmAction: "are you sure" with the action's consequences spelled out. */
export function confirmAction(title, message, ok, danger = false) {
  return open({title, id: 'confirm-form', ok, danger,
    fields: h('div', {class: 'confirm-text'}, message)});
}

/** promptToken asks for the API token; reason says why. */
export function promptToken(reason) {
  return open({title: 'API token needed', id: 'token-form', ok: 'Use this token',
    fields: [
      h('p', null, reason),
      h('label', null, 'Token ', h('input', {type: 'password', id: 'token-input', name: 'token', autocomplete: 'off', required: true})),
      h('p', {class: 'hint'}, 'The token the workers were started with (gale --token or GALE_AUTH_TOKEN). It is kept in this tab only (sessionStorage).'),
    ],
    read: f => {
      const v = f.elements.token.value.trim();
      if (!v) throw new Error('Enter the token, or cancel.');
      return v;
    }});
}

/**
 * rebalanceForm asks for new parallelisms (one input per component) and a
 * number of workers. The answer holds only what changed: {parallelism, workers}.
 */
export function rebalanceForm(topo) {
  const rows = topo.components.map(c => h('tr', null,
    h('td', null, c.id), h('td', null, c.kind), h('td', {class: 'num'}, c.parallelism),
    h('td', null, h('input', {type: 'number', min: 1, max: 10000, step: 1, value: c.parallelism, name: 'p:' + c.id,
      'data-component': c.id, 'aria-label': 'new parallelism of ' + c.id}))));
  return open({title: `Rebalance ${topo.name}`, id: 'rebalance-form', ok: 'Rebalance…',
    fields: [
      h('p', null, 'Change the number of tasks of components, or the number of workers the topology spreads over. Tasks move without a restart; trees in flight on moved tasks are replayed.'),
      h('div', {class: 'table-wrap rebalance-table'}, h('table', null,
        h('thead', null, h('tr', null, h('th', null, 'component'), h('th', null, 'kind'), h('th', {class: 'num'}, 'now'), h('th', null, 'new parallelism'))),
        h('tbody', null, rows))),
      h('label', null, 'Workers ', h('input', {type: 'number', min: 0, step: 1, name: 'workers', id: 'rebalance-workers', placeholder: String(topo.workers || ''),
        'aria-label': 'number of workers'})),
      h('p', {class: 'hint'}, 'Leave workers empty to keep the current spread.'),
    ],
    read: f => {
      const out = {parallelism: {}};
      for (const c of topo.components) {
        const raw = f.elements['p:' + c.id].value.trim();
        const n = Number(raw);
        if (!Number.isInteger(n) || n < 1) throw new Error(`The parallelism of ${c.id} must be a whole number of at least 1 (got "${raw}").`);
        if (n !== c.parallelism) out.parallelism[c.id] = n;
      }
      const w = f.elements.workers.value.trim();
      if (w !== '') {
        const n = Number(w);
        if (!Number.isInteger(n) || n < 1) throw new Error(`Workers must be a whole number of at least 1 (got "${w}").`);
        out.workers = n;
      }
      if (!Object.keys(out.parallelism).length) delete out.parallelism;
      if (!out.parallelism && !out.workers) throw new Error('Nothing to change: set a new parallelism or a number of workers.');
      return out;
    }});
}

/** killForm asks for the drain time in seconds. */
export function killForm(name) {
  return open({title: `Kill ${name}?`, id: 'kill-form', ok: 'Kill the topology', danger: true,
    fields: [
      h('p', null, 'The spouts stop now; the topology drains for the given time (trees in flight may complete), then every task stops and the topology is removed. This cannot be undone: submit it again to restart it.'),
      h('label', null, 'Drain seconds ', h('input', {type: 'number', min: 0, step: 1, value: 30, name: 'drain', id: 'kill-drain'})),
    ],
    read: f => {
      const n = Number(f.elements.drain.value);
      if (!Number.isInteger(n) || n < 0) throw new Error('The drain time is a whole number of seconds, 0 or more.');
      return {drain: n};
    }});
}

/** toast shows a short message at the bottom right. */
export function toast(msg, kind = 'ok') {
  const box = document.getElementById('toasts');
  const t = h('div', {class: ['toast', 'toast-' + kind], role: kind === 'error' ? 'alert' : 'status'}, msg);
  box.append(t);
  setTimeout(() => t.remove(), kind === 'error' ? 10000 : 5000);
}

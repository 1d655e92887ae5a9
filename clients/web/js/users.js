// The admin's user management: the tenant's users with their role and state (GET /api/v1/users,
// admin and manager), an invitation, and for the user chosen in the list a change of role, a
// disable or a reactivation. Each goes through the outbox; the list is read again on its verdict
// (foutad applies a user event to sign-in as it records it).
import { h, put } from './dom.js';
import { t, fieldLabel } from './i18n.js';
import { getJson, ApiError } from './api.js';
import { eventForm } from './forms.js';
import { specs } from './specs.js';
import * as outbox from './outbox.js';

const TYPES = ['UserInvited', 'UserRoleChanged', 'UserDisabled', 'UserReactivated'];

export function usersView(cleanup) {
  const list = h('div', { dataset: { testid: 'users' } });
  const forms = Object.fromEntries(TYPES.map((type) => [type, eventForm({ ...specs[type], type })]));
  const title = h('h3');
  const manage = h('div', { hidden: true, dataset: { testid: 'manage' } }, title,
    forms.UserRoleChanged, forms.UserDisabled, forms.UserReactivated);
  let chosen = null;
  const pick = (u) => {
    chosen = u;
    manage.hidden = false;
    title.textContent = t('users.manage', { user: u.user_id });
    for (const type of ['UserRoleChanged', 'UserDisabled', 'UserReactivated']) {
      forms[type].elements.namedItem('user_id').value = u.user_id;
    }
    forms.UserRoleChanged.elements.namedItem('role').value = u.role;
    forms.UserDisabled.hidden = u.state === 'disabled';
    forms.UserReactivated.hidden = u.state !== 'disabled';
  };
  const load = async () => {
    try {
      const doc = await getJson('/api/v1/users');
      put(list, h('p.summary', t('users.count', { n: doc.count })), h('div.table-wrap', h('table', { dataset: { testid: 'user-rows' } },
        h('thead', h('tr', [fieldLabel('user_id'), fieldLabel('role'), fieldLabel('status'), ''].map((c) => h('th', c)))),
        h('tbody', doc.users.map((u) => h('tr', { dataset: { key: u.user_id } },
          h('td', u.user_id),
          h('td', { dataset: { role: u.role } }, t(`role.${u.role}`)),
          h('td', h('span', { className: `badge st-${u.state}`, dataset: { state: u.state } }, t(`users.${u.state}`))),
          h('td', h('button.secondary', { type: 'button', dataset: { manage: u.user_id }, onclick: () => pick(u) }, t('users.manage_button')))))))),
        doc.truncated ? h('p.muted', t('stock.truncated')) : null);
      if (chosen) {
        const now = doc.users.find((u) => u.user_id === chosen.user_id);
        if (now) pick(now);
      }
    } catch (e) {
      put(list, h('p.bad', e instanceof ApiError ? `${e.problem.code || e.status}: ${e.message}` : t('err.network')));
    }
  };
  const seen = new Set();
  outbox.list().then((items) => items.forEach((it) => it.state !== 'pending' && seen.add(it.id)));
  cleanup.push(outbox.onChange((items) => {
    const done = items.filter((it) => TYPES.includes(it.type) && (it.state === 'accepted' || it.state === 'duplicate') && !seen.has(it.id));
    done.forEach((it) => seen.add(it.id));
    if (done.length) load();
  }));
  load();
  return h('section.view.wide', h('h2', t('tab.users')), list, manage, forms.UserInvited);
}

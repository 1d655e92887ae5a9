// An outbox item's verdict as the user reads it.
import { t } from './i18n.js';

export function verdictText(item) {
  const v = item.verdict;
  switch (item.state) {
    case 'accepted': return t('verdict.accepted', { seq: v.seq });
    case 'duplicate': return t('verdict.duplicate', { seq: v.seq });
    case 'refused': return t('verdict.refused', { code: v.code || v.status, field: v.field || '—', detail: v.detail || '' });
    default: return v?.transient ? t('verdict.retry', { code: v.code || v.status }) : t('verdict.pending');
  }
}

// Strings: one table per language (fr.js, en.js); French first. t('key', {n: 3}) fills {n}.
import fr from './fr.js';
import en from './en.js';

const tables = { fr, en };
let lang = localStorage.getItem('fouta.lang') || 'fr';
if (!tables[lang]) lang = 'fr';

export const languages = Object.keys(tables);
export function getLang() {
  return lang;
}
export function setLang(next) {
  if (!tables[next]) return;
  lang = next;
  localStorage.setItem('fouta.lang', next);
  document.documentElement.lang = next;
}
export function t(key, vars) {
  // An event type without a translated title keeps its catalog name.
  let s = tables[lang][key] ?? tables.fr[key] ?? (key.startsWith('ev.') ? key.slice(3) : key);
  if (vars) for (const [k, v] of Object.entries(vars)) s = s.replaceAll(`{${k}}`, String(v));
  return s;
}
export function hasKey(key) {
  return key in tables[lang] || key in tables.fr;
}
// A field's label: "field.<name>", else the name itself.
export function fieldLabel(name) {
  const key = `field.${name}`;
  const s = tables[lang][key] ?? tables.fr[key];
  return s ?? name;
}

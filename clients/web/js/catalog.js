// Every type of the catalog, as forms made from the event schemas of GET /api/v1/openapi.json
// (the catalog's own JSON Schemas: fields, kinds, bounds, enumerations, entity kinds, units and
// the roles that may post each type). The role apps' own forms (specs.js) cover the main flows;
// this covers the rest. The schemas are kept on the device for offline use.
import { getJson } from './api.js';

const KEY = 'fouta.schemas';
const US = 'microseconds since the Unix epoch';

export async function loadSchemas() {
  try {
    const doc = await getJson('/api/v1/openapi.json');
    const schemas = {};
    for (const [name, s] of Object.entries(doc.components.schemas)) {
      if (name.endsWith('Payload') && s['x-roles']) schemas[s.title || name.slice(0, -7)] = s;
    }
    localStorage.setItem(KEY, JSON.stringify(schemas));
    return schemas;
  } catch (e) {
    const kept = localStorage.getItem(KEY);
    if (kept) return JSON.parse(kept);
    throw e;
  }
}

export function typesFor(schemas, role) {
  return Object.keys(schemas).filter((t) => schemas[t]['x-roles'].includes(role)).sort();
}

function field(name, p, required) {
  const f = { name, required, doc: p.description };
  if (name === 'photos') return { ...f, kind: 'photos', max: p.maxItems || 10 };
  if (p.type === 'array' && p.items?.type === 'object') {
    const req = p.items.required || [];
    return { ...f, kind: 'rows', min: required ? Math.max(1, p.minItems || 0) : 0, empty: required && !p.minItems, rows: fields(p.items.properties, req) };
  }
  if (p.type === 'array') return { ...f, kind: 'hus' };
  if (p.enum) return { ...f, kind: 'enum', values: p.enum };
  if (p.type === 'boolean') return { ...f, kind: required ? 'bool' : 'tribool' };
  if (p.type === 'integer' && p['x-unit'] === US) return { ...f, kind: 'time' };
  if (p.type === 'integer' && p['x-fixed-point']) return { ...f, kind: 'qty', signed: p.minimum < 0, unit: p['x-unit'] };
  if (p.type === 'integer') return { ...f, kind: 'int', signed: p.minimum < 0, unit: p['x-unit'] };
  if (p['x-entity']) return { ...f, kind: p['x-entity'] === 'hu' ? 'hu' : 'id' };
  return { ...f, kind: 'text' };
}

// Required fields first, in the catalog's order, then the optional ones.
function fields(props, required) {
  const names = [...required, ...Object.keys(props).filter((n) => !required.includes(n))];
  return names.filter((n) => props[n]).map((n) => field(n, props[n], required.includes(n)));
}

export function specFor(type, schema) {
  return { type, title: `ev.${type}`, doc: schema.description, fields: fields(schema.properties || {}, schema.required || []) };
}

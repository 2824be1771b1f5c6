import { z } from 'zod';

/** One row of docs/configuration.md, read off a zod field: its `.describe()` text and its default. */
export interface EnvDocRow {
  name: string;
  defaultText: string;
  meaning: string;
}

interface FieldMeta {
  description?: string;
  /** Shown instead of the default value, for defaults computed at start-up (generated secrets). */
  defaultText?: string;
}

type Def = { type: string; in?: z.ZodType; innerType?: z.ZodType; defaultValue?: unknown; entries?: Record<string, string> };
const defOf = (schema: z.ZodType): Def => (schema as unknown as { _zod: { def: Def } })._zod.def;

/** The raw (environment-string side) default of a field, looking through transforms and refinements. */
function rawDefault(schema: z.ZodType): unknown {
  const def = defOf(schema);
  if (def.type === 'default') return def.defaultValue;
  if (def.type === 'pipe' && def.in) return rawDefault(def.in);
  return undefined;
}

function enumValues(schema: z.ZodType): string[] | undefined {
  const def = defOf(schema);
  if (def.type === 'enum' && def.entries) return Object.values(def.entries);
  const inner = def.type === 'pipe' ? def.in : def.innerType;
  return inner ? enumValues(inner) : undefined;
}

const UNITS: Array<[number, string]> = [
  [24 * 3600 * 1000, 'd'],
  [3600 * 1000, 'h'],
  [60 * 1000, 'min'],
  [1000, 's'],
];

/** `900000` → `900000` (15 min) for a duration in milliseconds that is a whole number of a larger unit. */
function formatDefault(name: string, value: unknown): string {
  if (value === undefined || value === '') return '—';
  const text = `\`${typeof value === 'string' ? value : JSON.stringify(value)}\``;
  if (!name.endsWith('_MS') || typeof value !== 'number') return text;
  const unit = UNITS.find(([ms]) => value >= ms && value % ms === 0);
  return unit ? `${text} (${value / unit[0]} ${unit[1]})` : text;
}

export function envDocRows(shape: Record<string, z.ZodType>): EnvDocRow[] {
  return Object.entries(shape).map(([name, field]) => {
    const meta = (z.globalRegistry.get(field) ?? {}) as FieldMeta;
    const values = enumValues(field);
    const choices = values ? ` (${values.map((v) => `\`${v}\``).join(' \\| ')})` : '';
    return {
      name,
      defaultText: meta.defaultText ?? formatDefault(name, rawDefault(field)),
      meaning: `${meta.description ?? ''}${choices}`.trim(),
    };
  });
}

export function renderEnvTable(rows: readonly EnvDocRow[]): string {
  const lines = ['| variable | default | meaning |', '|---|---|---|'];
  for (const row of rows) lines.push(`| \`${row.name}\` | ${row.defaultText} | ${row.meaning.replace(/\n/g, ' ')} |`);
  return lines.join('\n');
}

/** Names of fields without a `.describe()` text: the doc test fails on them so that no setting goes undocumented. */
export function undocumentedFields(shape: Record<string, z.ZodType>): string[] {
  return Object.entries(shape)
    .filter(([, field]) => !(z.globalRegistry.get(field) as FieldMeta | undefined)?.description)
    .map(([name]) => name);
}

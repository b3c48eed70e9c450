import { ConfigSchema } from './schema.js';
import { ENV_OVERRIDES } from './load.js';

/** The parts of a JSON schema (as TypeBox builds them) the reference reads. */
interface Node {
  type?: string;
  enum?: readonly unknown[];
  properties?: Record<string, Node>;
  patternProperties?: Record<string, Node>;
  items?: Node;
  required?: readonly string[];
  default?: unknown;
  description?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  minLength?: number;
  minItems?: number;
  pattern?: string;
}

const code = (value: unknown) => `\`${typeof value === 'string' ? value : JSON.stringify(value)}\``;
const cell = (text: string) => text.replace(/\|/g, '\\|');

function typeOf(node: Node): string {
  if (node.enum) return node.enum.map(code).join(', ');
  if (node.type === 'array') return node.items?.type === 'object' ? 'list' : `list of ${node.items ? typeOf(node.items) : 'values'}`;
  if (node.patternProperties) return 'map';
  return node.type ?? 'any';
}

function rulesOf(node: Node): string {
  const rules: string[] = [];
  if (node.minimum !== undefined) rules.push(`>= ${node.minimum}`);
  if (node.exclusiveMinimum !== undefined) rules.push(`> ${node.exclusiveMinimum}`);
  if (node.maximum !== undefined) rules.push(`<= ${node.maximum}`);
  if (node.minLength) rules.push('not empty');
  if (node.minItems) rules.push(`at least ${node.minItems}`);
  if (node.pattern) rules.push(code(node.pattern));
  return rules.join(', ');
}

interface Row {
  setting: string;
  node: Node;
  required: boolean;
}

/** Every setting, depth first, in the schema's order: objects open into their fields, lists and maps into their entries. */
function rowsOf(node: Node, path: string, required: boolean, rows: Row[]): Row[] {
  const entry = node.type === 'array' && node.items?.properties ? node.items : node.patternProperties ? Object.values(node.patternProperties)[0] : undefined;
  const fields = node.properties ?? entry?.properties;
  if (path) rows.push({ setting: path, node, required });
  if (!fields) return rows;
  const prefix = path + (node.type === 'array' ? '[]' : node.patternProperties ? '.<name>' : '');
  const owner = node.properties ? node : entry!;
  for (const [name, child] of Object.entries(fields)) {
    const mustGive = (owner.required ?? []).includes(name) && child.default === undefined;
    rowsOf(child, prefix ? `${prefix}.${name}` : name, mustGive, rows);
  }
  return rows;
}

/** The settings table of docs/configuration.md, generated from the config schema (`npm run docs:config`). */
export function configReference(): string {
  const envOf = new Map(Object.entries(ENV_OVERRIDES).map(([variable, field]) => [field as string, variable]));
  const lines = ['| setting | type | default | rules | meaning |', '| --- | --- | --- | --- | --- |'];
  for (const { setting, node, required } of rowsOf(ConfigSchema as unknown as Node, '', false, [])) {
    const fallback = node.default === undefined ? (required ? '**required**' : '') : code(node.default);
    const env = envOf.get(setting);
    const meaning = [node.description ?? '', env ? `(${code(env)} overrides)` : ''].filter(Boolean).join(' ');
    lines.push(`| ${[code(setting), typeOf(node), fallback, rulesOf(node), meaning].map(cell).join(' | ')} |`);
  }
  return lines.join('\n') + '\n';
}

/** The page the table lives in, relative to the repository root. */
export const CONFIG_DOC = 'docs/configuration.md';
const START = '<!-- settings:start -->\n';
const END = '<!-- settings:end -->';

/** The page with its settings table (between the markers) replaced by the generated one. */
export function withSettingsTable(page: string): string {
  const from = page.indexOf(START);
  const to = page.indexOf(END);
  if (from < 0 || to < from) throw new Error(`${CONFIG_DOC}: the settings table markers are missing`);
  return page.slice(0, from + START.length) + configReference() + page.slice(to);
}

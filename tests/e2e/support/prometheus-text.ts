/** The Prometheus text format (0.0.4), parsed strictly: a scrape that a Prometheus server would refuse fails here. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}
export interface Family {
  name: string;
  type: string;
  help: string;
  samples: Sample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = ['counter', 'gauge', 'histogram', 'summary', 'untyped'];

function parseValue(text: string, line: string): number {
  // As Prometheus reads them (Go's ParseFloat): Inf and NaN in any case; prom-client writes "Nan".
  if (/^\+?inf$/i.test(text)) return Infinity;
  if (/^-inf$/i.test(text)) return -Infinity;
  if (/^nan$/i.test(text)) return NaN;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) throw new Error(`bad value ${JSON.stringify(text)} in: ${line}`);
  return Number(text);
}

/** `{a="x",b="y\"z"}` → labels, strictly: quoted values with \\, \" and \n escapes only. */
function parseLabels(text: string, line: string): Record<string, string> {
  const labels: Record<string, string> = {};
  let i = 0;
  const fail = (why: string): never => {
    throw new Error(`${why} at ${i} in labels of: ${line}`);
  };
  while (i < text.length) {
    const eq = text.indexOf('=', i);
    if (eq < 0) fail('no =');
    const name = text.slice(i, eq);
    if (!LABEL_NAME.test(name)) fail(`bad label name ${JSON.stringify(name)}`);
    if (name in labels) fail(`label ${name} twice`);
    if (text[eq + 1] !== '"') fail('unquoted value');
    let value = '';
    i = eq + 2;
    for (;;) {
      const c = text[i];
      if (c === undefined) fail('unterminated value');
      if (c === '"') break;
      if (c === '\\') {
        const next = text[i + 1];
        if (next === '\\') value += '\\';
        else if (next === '"') value += '"';
        else if (next === 'n') value += '\n';
        else fail('bad escape');
        i += 2;
      } else {
        value += c;
        i++;
      }
    }
    labels[name] = value;
    i++;
    if (i < text.length) {
      if (text[i] !== ',') fail('expected ,');
      i++;
    }
  }
  return labels;
}

/**
 * Prometheus text format 0.0.4: every line is a HELP or TYPE comment, another comment, or a
 * sample of the family declared above it (histograms: _bucket, _sum, _count). Throws on anything else.
 */
export function parseExposition(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  let current: Family | undefined;
  if (!text.endsWith('\n')) throw new Error('the exposition does not end with a newline');
  for (const line of text.slice(0, -1).split('\n')) {
    if (line === '') continue;
    const comment = /^#\s*(HELP|TYPE)\s+(\S+)\s*(.*)$/.exec(line);
    if (comment) {
      const [, kind, name = '', rest = ''] = comment;
      if (!NAME.test(name)) throw new Error(`bad metric name in: ${line}`);
      if (kind === 'TYPE' && !TYPES.includes(rest)) throw new Error(`bad type in: ${line}`);
      let family = families.get(name);
      if (!family) {
        family = { name, type: 'untyped', help: '', samples: [] };
        families.set(name, family);
      } else if (family.samples.length) throw new Error(`${kind} after samples of ${name}: ${line}`);
      if (kind === 'TYPE') family.type = rest;
      else family.help = rest;
      current = family;
      continue;
    }
    if (line.startsWith('#')) continue;
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: (-?\d+))?$/.exec(line);
    if (!sample) throw new Error(`not a sample: ${line}`);
    const [, name = '', labelText = '', valueText = ''] = sample;
    const suffixes = current?.type === 'histogram' ? ['_bucket', '_sum', '_count'] : current?.type === 'summary' ? ['', '_sum', '_count'] : [''];
    if (!current || !suffixes.some((s) => name === current?.name + s)) throw new Error(`sample outside its family: ${line}`);
    current.samples.push({ name, labels: parseLabels(labelText, line), value: parseValue(valueText, line) });
  }
  return families;
}

export function value(families: Map<string, Family>, name: string, labels: Record<string, string> = {}): number | undefined {
  const family = families.get(name.replace(/_(bucket|sum|count)$/, '')) ?? families.get(name);
  const found = family?.samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (found && found.length > 1) throw new Error(`${name} ${JSON.stringify(labels)} matches ${found.length} series`);
  return found?.[0]?.value;
}

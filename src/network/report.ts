/** `demotool network report`: what the guests asked for, and what is still missing from the archives. */
import { readFile } from 'node:fs/promises';
import type { RequestLogEntry, RequestOutcome } from './request-log.js';

export interface RequestReport {
  /** Log lines read (lines that are not JSON are counted in `unreadable`). */
  total: number;
  unreadable: number;
  byOutcome: Record<RequestOutcome, number>;
  /** Per host: requests and queries by outcome. */
  byHost: Record<string, Record<RequestOutcome, number>>;
  /** HTTP(S) URLs that got 404 from their service, with how often: what a conservator still has to archive. */
  missing: { url: string; count: number }[];
  /** Names the guest asked for that are not configured (DNS or TLS), with how often. */
  refused: { host: string; count: number }[];
  /** Requests that failed (an upstream down, an unreadable record). */
  errors: { url: string; detail?: string; count: number }[];
}

const OUTCOMES: RequestOutcome[] = ['served', 'missing', 'refused', 'error'];

export async function summarizeRequestLog(...files: string[]): Promise<RequestReport> {
  const report: RequestReport = { total: 0, unreadable: 0, byOutcome: zero(), byHost: {}, missing: [], refused: [], errors: [] };
  const missing = new Map<string, number>();
  const refused = new Map<string, number>();
  const errors = new Map<string, { url: string; detail?: string; count: number }>();
  for (const file of files) {
    for (const line of (await readFile(file, 'utf8')).split('\n')) {
      if (!line.trim()) continue;
      const entry = parse(line);
      if (!entry) {
        report.unreadable++;
        continue;
      }
      report.total++;
      report.byOutcome[entry.outcome]++;
      (report.byHost[entry.host || '(none)'] ??= zero())[entry.outcome]++;
      if (entry.outcome === 'missing' && entry.url) missing.set(entry.url, (missing.get(entry.url) ?? 0) + 1);
      if (entry.outcome === 'refused' && entry.host) refused.set(entry.host, (refused.get(entry.host) ?? 0) + 1);
      if (entry.outcome === 'error') {
        const key = `${entry.url ?? entry.host}\n${entry.detail ?? ''}`;
        const seen = errors.get(key) ?? { url: entry.url ?? entry.host, detail: entry.detail, count: 0 };
        seen.count++;
        errors.set(key, seen);
      }
    }
  }
  report.missing = [...missing].map(([url, count]) => ({ url, count })).sort((a, b) => a.url.localeCompare(b.url));
  report.refused = [...refused].map(([host, count]) => ({ host, count })).sort((a, b) => a.host.localeCompare(b.host));
  report.errors = [...errors.values()];
  return report;
}

function parse(line: string): RequestLogEntry | undefined {
  try {
    const entry = JSON.parse(line) as RequestLogEntry;
    return OUTCOMES.includes(entry.outcome) ? entry : undefined;
  } catch {
    return undefined;
  }
}

function zero(): Record<RequestOutcome, number> {
  return { served: 0, missing: 0, refused: 0, error: 0 };
}

export function formatRequestReport(r: RequestReport): string {
  const lines = [
    `${r.total} requests: ${OUTCOMES.map((o) => `${r.byOutcome[o]} ${o}`).join(', ')}${r.unreadable ? ` (${r.unreadable} unreadable lines skipped)` : ''}`,
  ];
  const hosts = Object.keys(r.byHost).sort();
  if (hosts.length) {
    lines.push('', 'by host:');
    const width = Math.max(...hosts.map((h) => h.length));
    for (const host of hosts) lines.push(`  ${host.padEnd(width)}  ${OUTCOMES.map((o) => `${o} ${r.byHost[host]![o]}`).join('  ')}`);
  }
  lines.push('', r.missing.length ? 'missing (not in the archive, mirror or mock; capture these):' : 'missing: none');
  for (const m of r.missing) lines.push(`  ${m.url}${m.count > 1 ? `  (${m.count}×)` : ''}`);
  lines.push('', r.refused.length ? 'refused names (not in the service map):' : 'refused names: none');
  for (const x of r.refused) lines.push(`  ${x.host}${x.count > 1 ? `  (${x.count}×)` : ''}`);
  if (r.errors.length) {
    lines.push('', 'errors:');
    for (const e of r.errors) lines.push(`  ${e.url}${e.detail ? `: ${e.detail}` : ''}${e.count > 1 ? `  (${e.count}×)` : ''}`);
  }
  return lines.join('\n');
}

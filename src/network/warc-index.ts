/**
 * An index of WARC records by method and normalized URL, holding only where each record lies;
 * a record is read again when the guest asks for it. Built with warcio (Webrecorder's reader).
 */
import { WARCParser, type WARCRecord } from 'warcio';

/** Where a WARC's bytes come from: a file on disk, or a WARC held in memory (from a WACZ). */
export interface WarcSource {
  name: string;
  size: number;
  stream(): AsyncIterable<Uint8Array>;
  read(offset: number, length: number): Promise<Uint8Array>;
}

export interface IndexedRecord {
  type: 'response' | 'revisit';
  url: string;
  date: string;
  digest?: string;
  refersToUrl?: string;
  refersToDate?: string;
  source: WarcSource;
  offset: number;
  length: number;
}

export class WarcIndex {
  private readonly byKey = new Map<string, IndexedRecord[]>();
  private readonly byDigest = new Map<string, IndexedRecord>();

  /** Records every response and revisit of `source`; the method of each comes from its request record. */
  async add(source: WarcSource): Promise<void> {
    const found: (IndexedRecord & { id?: string })[] = [];
    const methods = new Map<string, string>(); // response record id → its request's method
    const offsets: number[] = [];
    const parser = new WARCParser(source.stream(), { keepHeadersCase: true });
    for await (const record of parser) {
      offsets.push(parser.offset);
      noteRecord(record, parser.offset, source, found, methods);
      await record.skipFully();
    }
    // A record ends where the next begins: exact for gzip members too.
    const ends = new Map(offsets.map((o, i) => [o, offsets[i + 1] ?? source.size]));
    for (const { id, ...entry } of found) {
      entry.length = ends.get(entry.offset)! - entry.offset;
      const method = (id && methods.get(id)) || 'GET';
      const key = indexKey(method, entry.url);
      if (!key) continue;
      this.byKey.set(key, [...(this.byKey.get(key) ?? []), entry]);
      if (entry.type === 'response' && entry.digest && !this.byDigest.has(entry.digest)) this.byDigest.set(entry.digest, entry);
    }
  }

  /** The capture for `method url`: the first response, else the first revisit. */
  find(method: string, url: string): IndexedRecord | undefined {
    const key = indexKey(method, url);
    const entries = key ? this.byKey.get(key) : undefined;
    return entries?.find((e) => e.type === 'response') ?? entries?.[0];
  }

  /** The response a revisit record stands for: by its Refers-To URL (and date), else by payload digest. */
  original(revisit: IndexedRecord): IndexedRecord | undefined {
    if (revisit.refersToUrl) {
      const entries = (this.byKey.get(indexKey('GET', revisit.refersToUrl) ?? '') ?? []).filter((e) => e.type === 'response');
      const match = entries.find((e) => e.date === revisit.refersToDate) ?? entries[0];
      if (match) return match;
    }
    return revisit.digest ? this.byDigest.get(revisit.digest) : undefined;
  }

  get size(): number {
    return this.byKey.size;
  }
}

function noteRecord(record: WARCRecord, offset: number, source: WarcSource, found: (IndexedRecord & { id?: string })[], methods: Map<string, string>): void {
  const type = record.warcType;
  const url = record.warcTargetURI;
  if (type === 'request') {
    const method = record.httpHeaders?.method;
    for (const id of record.warcConcurrentTo ?? []) if (method) methods.set(id.trim(), method.toUpperCase());
    return;
  }
  if ((type !== 'response' && type !== 'revisit') || !url) return;
  found.push({
    id: record.warcHeader('WARC-Record-ID') ?? undefined,
    type,
    url: url.replace(/^<(.*)>$/, '$1'),
    date: record.warcDate ?? '',
    digest: record.warcPayloadDigest ?? undefined,
    refersToUrl: record.warcRefersToTargetURI ?? undefined,
    refersToDate: record.warcRefersToDate ?? undefined,
    source,
    offset,
    length: 0,
  });
}

/**
 * `GET http://host/path?a=1&b=2`: the method, and the URL without its fragment, its host in
 * lower case, its default port dropped and its query parameters sorted (a page's scripts build
 * queries in any order). The scheme is kept; the archive service tries the other one too.
 */
export function indexKey(method: string, url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  parsed.searchParams.sort();
  const query = parsed.searchParams.toString();
  return `${method.toUpperCase()} ${parsed.protocol}//${parsed.host}${parsed.pathname}${query ? `?${query}` : ''}`;
}

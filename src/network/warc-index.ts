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

  /**
   * Records every response and revisit of `source`. The method of each comes from its request
   * record: the one whose WARC-Concurrent-To names it, else the request next to it for the same URL
   * (as warcio's own indexer pairs them), else GET.
   */
  async add(source: WarcSource): Promise<void> {
    const found: Found[] = [];
    const methods = new Map<string, string>(); // response record id → its request's method
    const offsets: number[] = [];
    let previous: { url?: string; method?: string; found?: Found } = {};
    const parser = new WARCParser(source.stream(), { keepHeadersCase: true });
    for await (const record of parser) {
      offsets.push(parser.offset);
      const noted = noteRecord(record, parser.offset, source, methods);
      if (noted.found) {
        if (noted.url === previous.url && previous.method) noted.found.nextToMethod = previous.method;
        found.push(noted.found);
      } else if (noted.method && previous.found && noted.url === previous.url) previous.found.nextToMethod ??= noted.method;
      previous = noted;
      await record.skipFully();
    }
    // A record ends where the next begins: exact for gzip members too.
    const ends = new Map(offsets.map((o, i) => [o, offsets[i + 1] ?? source.size]));
    for (const { id, nextToMethod, ...entry } of found) {
      entry.length = ends.get(entry.offset)! - entry.offset;
      const method = (id && methods.get(id)) || nextToMethod || 'GET';
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

type Found = IndexedRecord & { id?: string; nextToMethod?: string };

/** A request's method (kept by the response id it names), or a response or revisit to index. */
function noteRecord(record: WARCRecord, offset: number, source: WarcSource, methods: Map<string, string>): { url?: string; method?: string; found?: Found } {
  const type = record.warcType;
  const url = record.warcTargetURI?.replace(/^<(.*)>$/, '$1');
  if (type === 'request') {
    const method = record.httpHeaders?.method?.toUpperCase();
    for (const id of record.warcConcurrentTo ?? []) if (method) methods.set(id.trim(), method);
    return { url, method };
  }
  if ((type !== 'response' && type !== 'revisit') || !url) return {};
  const found: Found = {
    id: record.warcHeader('WARC-Record-ID') ?? undefined,
    type,
    url,
    date: record.warcDate ?? '',
    digest: record.warcPayloadDigest ?? undefined,
    refersToUrl: record.warcRefersToTargetURI ?? undefined,
    refersToDate: record.warcRefersToDate ?? undefined,
    source,
    offset,
    length: 0,
  };
  return { url, found };
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

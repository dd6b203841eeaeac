/** A WACZ is a zip whose archive/ folder holds the WARCs; each is read into memory with yauzl. */
import yauzl from 'yauzl';
import { NetworkError } from './errors.js';
import type { WarcSource } from './warc-index.js';

export async function waczSources(file: string): Promise<WarcSource[]> {
  const zip = await yauzl.openPromise(file, { lazyEntries: true });
  const sources: WarcSource[] = [];
  try {
    for await (const entry of zip.eachEntry()) {
      if (!/^archive\/[^/]+\.warc(\.gz)?$/i.test(entry.fileName)) continue;
      const data = await readEntry(zip, entry);
      sources.push(memorySource(`${file}!${entry.fileName}`, data));
    }
  } finally {
    zip.close();
  }
  if (!sources.length)
    throw new NetworkError('ENETARCHIVE', `${file} holds no archive/*.warc or archive/*.warc.gz`, 'is it a WACZ made by ArchiveWeb.page or Browsertrix?');
  return sources;
}

async function readEntry(zip: yauzl.ZipFile, entry: yauzl.Entry): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of await zip.openReadStreamPromise(entry)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function memorySource(name: string, data: Buffer): WarcSource {
  return {
    name,
    size: data.length,
    stream: () => [data][Symbol.iterator]() as unknown as AsyncIterable<Uint8Array>,
    read: async (offset, length) => data.subarray(offset, offset + length),
  };
}

/**
 * A libvirt save image (`virsh save`): a header, the domain XML that QEMU is started with on
 * `virsh restore`, libvirt's cookie, then QEMU's migration stream. libvirt 9 refuses another
 * name or UUID in `virsh restore --xml`, so a copy of a saved guest gets its own identity by
 * having the XML inside the file rewritten. libvirt pads the XML area for such edits.
 */
import { open } from 'node:fs/promises';
import { VmError } from './errors.js';

const MAGIC = 'LibvirtQemudSave';
/** magic[16], then uint32 version, data_len, was_running, format, cookieOffset, unused[14]. */
const HEADER_BYTES = 92;
const VERSION_AT = 16;
const DATA_LEN_AT = 20;
const COOKIE_AT = 32;
/** No domain XML of ours comes near this; a larger data_len means a damaged header. */
const MAX_DATA = 16 << 20;

export interface SaveImageHeader {
  xml: string;
  cookie: string;
  /** Bytes available for XML and cookie together. */
  capacity: number;
}

function damaged(file: string, why: string): VmError {
  return new VmError('ESAVEIMAGE', `${file} is not a usable libvirt save image: ${why}`, { hint: 'it is discarded and made again by the next cold boot' });
}

/** The XML and cookie of a save image; throws ESAVEIMAGE for anything that isn't one. */
export async function readSaveImage(file: string): Promise<SaveImageHeader> {
  const handle = await open(file, 'r');
  try {
    const header = Buffer.alloc(HEADER_BYTES);
    const { bytesRead } = await handle.read(header, 0, HEADER_BYTES, 0);
    if (bytesRead < HEADER_BYTES || header.toString('latin1', 0, MAGIC.length) !== MAGIC) throw damaged(file, 'no libvirt header');
    if (header.readUInt32LE(VERSION_AT) !== 2) throw damaged(file, `header version ${header.readUInt32LE(VERSION_AT)}, not 2`);
    const capacity = header.readUInt32LE(DATA_LEN_AT);
    if (capacity === 0 || capacity > MAX_DATA) throw damaged(file, `XML area of ${capacity} bytes`);
    const data = Buffer.alloc(capacity);
    if ((await handle.read(data, 0, capacity, HEADER_BYTES)).bytesRead !== capacity) throw damaged(file, 'cut short');
    const xmlEnd = data.indexOf(0);
    const cookieAt = header.readUInt32LE(COOKIE_AT);
    if (xmlEnd <= 0 || (cookieAt !== 0 && cookieAt !== xmlEnd + 1)) throw damaged(file, 'XML area without its terminator');
    const cookieEnd = cookieAt ? data.indexOf(0, cookieAt) : -1;
    return {
      xml: data.toString('utf8', 0, xmlEnd),
      cookie: cookieAt && cookieEnd > cookieAt ? data.toString('utf8', cookieAt, cookieEnd) : '',
      capacity,
    };
  } finally {
    await handle.close();
  }
}

/**
 * Replaces the domain XML inside a save image, in place (the cookie is kept); the migration
 * stream is not touched. `header`: what readSaveImage() just gave for this file, if at hand.
 */
export async function rewriteSaveImageXml(file: string, xml: string, header?: SaveImageHeader): Promise<void> {
  const { cookie, capacity } = header ?? (await readSaveImage(file));
  const xmlBytes = Buffer.from(`${xml}\0`, 'utf8');
  const cookieBytes = cookie ? Buffer.from(`${cookie}\0`, 'utf8') : Buffer.alloc(0);
  if (xmlBytes.length + cookieBytes.length > capacity)
    throw new VmError('ESAVEIMAGE', `the new domain XML (${xmlBytes.length} bytes) does not fit the save image's ${capacity}-byte area`, {
      hint: 'the saved state is made again by the next cold boot',
    });
  const data = Buffer.alloc(capacity);
  xmlBytes.copy(data, 0);
  cookieBytes.copy(data, xmlBytes.length);
  const cookieAt = Buffer.alloc(4);
  cookieAt.writeUInt32LE(cookie ? xmlBytes.length : 0);
  const handle = await open(file, 'r+');
  try {
    await handle.write(cookieAt, 0, 4, COOKIE_AT);
    await handle.write(data, 0, capacity, HEADER_BYTES);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

import sharp from 'sharp';
import { blendImage } from './cursor.js';
import type { Frame, InputEvent } from '../frames.js';

/** How long a click ring lives, and how long the keycast caption stays after the last key. */
export const RING_MS = 500;
export const KEYCAST_MS = 1500;
const MAX_CHUNKS = 6;
const MAX_CHARS = 40;

interface Ring {
  x: number;
  y: number;
  at: number;
}
interface Caption {
  text: string;
  width: number;
  height: number;
  rgba: Buffer;
}

/**
 * Key labels to caption chunks: consecutive single printable characters are typed
 * text and join into one chunk ("hello"); named keys (Enter, ctrl+c) stay separate.
 */
export function keycastText(labels: string[]): string {
  const chunks: string[] = [];
  let typing = false;
  for (const label of labels) {
    const typed = [...label].length === 1 && label !== ' ';
    if (typed && typing) chunks[chunks.length - 1] += label;
    else chunks.push(label === ' ' ? 'Space' : label);
    typing = typed;
  }
  const text = chunks.slice(-MAX_CHUNKS).join('  ');
  return text.length > MAX_CHARS ? '…' + text.slice(-(MAX_CHARS - 1)) : text;
}

function escapeXml(s: string): string {
  return s.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Renders the caption (white monospace on a dark rounded box) to RGBA with sharp. */
export async function renderCaption(text: string, frameWidth: number): Promise<Caption> {
  const fontSize = Math.max(14, Math.min(32, Math.round(frameWidth / 40)));
  const pad = Math.round(fontSize * 0.6);
  const width = Math.min(frameWidth - 8, Math.ceil([...text].length * fontSize * 0.62) + 2 * pad);
  const height = Math.round(fontSize * 1.5) + pad;
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">
  <rect x="0" y="0" width="${width}" height="${height}" rx="${pad}" fill="#000" fill-opacity="0.72"/>
  <text x="${width / 2}" y="${height / 2}" font-family="DejaVu Sans Mono, monospace" font-size="${fontSize}"
    fill="#fff" text-anchor="middle" dominant-baseline="central">${escapeXml(text)}</text></svg>`;
  const { data, info } = await sharp(Buffer.from(svg)).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  return { text, width: info.width, height: info.height, rgba: data };
}

/**
 * The optional overlays: keycast caption and click rings. Input arrives via
 * `onInput`; the recorder asks `changed(now)` each tick and `draw()` into its copy.
 */
export class Overlays {
  private keys: string[] = [];
  private lastKeyAt = -Infinity;
  private rings: Ring[] = [];
  private caption?: Caption;
  private rendering?: Promise<void>;
  private wantedText = '';
  private drawnState = '';

  constructor(private readonly opts: { keycast: boolean; clickRings: boolean; frameWidth: number }) {}

  get active(): boolean {
    return this.opts.keycast || this.opts.clickRings;
  }

  /** Feed an input event; `now` is performance.now() at arrival. */
  onInput(event: InputEvent, now: number): void {
    if (event.type === 'key' && this.opts.keycast) {
      this.keys = [...this.keys, event.label].slice(-MAX_CHARS);
      this.lastKeyAt = now;
      this.wantedText = keycastText(this.keys);
      this.render();
    } else if (event.type === 'click' && this.opts.clickRings) {
      this.rings.push({ x: event.x, y: event.y, at: now });
    }
  }

  /** Render the caption off the hot path; frames keep the previous caption until done. */
  private render(): void {
    if (this.rendering) return;
    const text = this.wantedText;
    this.rendering = renderCaption(text, this.opts.frameWidth)
      .then((c) => {
        this.caption = c;
      })
      .catch(() => {
        /* a caption is decoration: never fail the recording over it */
      })
      .finally(() => {
        this.rendering = undefined;
        if (this.wantedText !== text) this.render();
      });
  }

  private captionVisible(now: number): boolean {
    return !!this.caption && now - this.lastKeyAt < KEYCAST_MS;
  }

  private state(now: number): string {
    this.rings = this.rings.filter((r) => now - r.at < RING_MS);
    const caption = this.captionVisible(now) ? this.caption!.text : '';
    // Rings fade every frame, so any live ring makes every frame new.
    return `${caption}|${this.rings.length ? now : ''}`;
  }

  /** True when the overlay picture differs from what was last drawn. */
  changed(now: number): boolean {
    return this.active && this.state(now) !== this.drawnState;
  }

  draw(dst: Frame, now: number): void {
    if (!this.active) return;
    this.drawnState = this.state(now);
    for (const ring of this.rings) drawRing(dst, ring, (now - ring.at) / RING_MS);
    if (this.captionVisible(now)) {
      const c = this.caption!;
      const left = Math.round((dst.width - c.width) / 2);
      const top = dst.height - c.height - Math.round(dst.height / 20);
      blendImage(dst, c, left, top);
    }
  }

  /** Resolves once no caption is being rendered (tests, stop). */
  async settle(): Promise<void> {
    while (this.rendering) await this.rendering;
  }
}

/** A ring that grows and fades out as `age` goes 0 → 1. */
export function drawRing(dst: Frame, ring: { x: number; y: number }, age: number): void {
  const radius = 10 + 18 * age;
  const thickness = 4;
  // Stays strong most of its life, then fades fast.
  const alpha = Math.max(0, 1 - age * age) * 0.95;
  const r = Math.ceil(radius + thickness);
  const d = dst.rgba;
  for (let y = Math.max(0, Math.round(ring.y) - r); y <= Math.min(dst.height - 1, Math.round(ring.y) + r); y++) {
    for (let x = Math.max(0, Math.round(ring.x) - r); x <= Math.min(dst.width - 1, Math.round(ring.x) + r); x++) {
      const dist = Math.hypot(x - ring.x, y - ring.y);
      // Anti-aliased band around the radius.
      const cover = Math.max(0, Math.min(1, thickness / 2 + 0.5 - Math.abs(dist - radius)));
      const a = cover * alpha;
      if (a <= 0) continue;
      const i = (y * dst.width + x) * 4;
      d[i] = 255 * a + d[i]! * (1 - a);
      d[i + 1] = 200 * a + d[i + 1]! * (1 - a);
      d[i + 2] = 0 * a + d[i + 2]! * (1 - a);
    }
  }
}

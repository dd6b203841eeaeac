import { test, expect } from '@playwright/test';
import { drawRing, keycastText, KEYCAST_MS, Overlays, renderCaption, RING_MS } from '../../src/record/overlays.js';
import type { Frame } from '../../src/frames.js';

const blank = (w: number, h: number): Frame => ({ width: w, height: h, rgba: Buffer.alloc(w * h * 4, 0) });

test.describe('keycast text', () => {
  test('typed characters join into words, named keys stay apart', () => {
    expect(keycastText(['h', 'i', 'Enter'])).toBe('hi  Enter');
    expect(keycastText(['ctrl+c', 'l', 's', ' ', '-', 'l', 'Enter'])).toBe('ctrl+c  ls  Space  -l  Enter');
  });
  test('only the last few chunks, bounded length', () => {
    expect(keycastText(['F1', 'F2', 'F3', 'F4', 'F5', 'F6', 'F7', 'F8']).split('  ')).toEqual(['F3', 'F4', 'F5', 'F6', 'F7', 'F8']);
    expect(keycastText([...'x'.repeat(100)]).length).toBeLessThanOrEqual(40);
  });
});

test.describe('overlays', () => {
  test('a ring is drawn around the click, not inside or far away', () => {
    const f = blank(100, 100);
    drawRing(f, { x: 50, y: 50 }, 0);
    const at = (x: number, y: number) => f.rgba[(y * 100 + x) * 4];
    expect(at(60, 50)).toBeGreaterThan(150); // radius 10 at age 0
    expect(at(50, 50)).toBe(0);
    expect(at(90, 50)).toBe(0);
  });

  test('captions render to RGBA with sharp', async () => {
    const c = await renderCaption('ctrl+alt+t', 800);
    expect(c.width).toBeGreaterThan(50);
    expect(c.rgba.length).toBe(c.width * c.height * 4);
    // Some opaque white text pixels over the dark box.
    let white = 0;
    for (let i = 0; i < c.rgba.length; i += 4) if (c.rgba[i]! > 200 && c.rgba[i + 3]! > 200) white++;
    expect(white).toBeGreaterThan(20);
  });

  test('changed() tracks captions and ring animation, then goes quiet', async () => {
    const o = new Overlays({ keycast: true, clickRings: true, frameWidth: 320 });
    const f = blank(320, 200);
    o.draw(f, 0);
    expect(o.changed(1)).toBe(false);
    o.onInput({ type: 'key', label: 'a', at: 0 }, 10);
    await o.settle();
    expect(o.changed(20)).toBe(true);
    o.draw(f, 20);
    expect(o.changed(30)).toBe(false);
    o.onInput({ type: 'click', x: 5, y: 5, button: 'left', at: 0 }, 40);
    expect(o.changed(50)).toBe(true);
    o.draw(f, 50);
    expect(o.changed(60)).toBe(true); // the ring fades every frame
    o.draw(f, 40 + RING_MS + 1);
    expect(o.changed(40 + RING_MS + 2)).toBe(false);
    expect(o.changed(10 + KEYCAST_MS + 1)).toBe(true); // the caption disappears
  });

  test('off by default: nothing drawn, never changed', () => {
    const o = new Overlays({ keycast: false, clickRings: false, frameWidth: 320 });
    o.onInput({ type: 'key', label: 'a', at: 0 }, 0);
    o.onInput({ type: 'click', x: 5, y: 5, button: 'left', at: 0 }, 0);
    const f = blank(32, 32);
    o.draw(f, 1);
    expect(o.changed(1)).toBe(false);
    expect(f.rgba.every((b) => b === 0)).toBe(true);
  });
});

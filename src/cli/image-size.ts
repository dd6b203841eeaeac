/** An image's size as `images list` and `doctor` both show it: MiB with one decimal (0.2 MiB, not 0). */
export function formatMiB(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

/** A time as `images list` shows it: `2026-11-27 02:25` (UTC). */
export function shortDate(when: Date): string {
  return when.toISOString().slice(0, 16).replace('T', ' ');
}

import { isDeepStrictEqual } from 'node:util';
import type { ExhibitConfig } from './config.js';

/** What a reloaded config changes, and whether the running daemon can take it. */
export interface ReloadPlan {
  /** Why the new config can't be taken without a restart of the daemon; undefined when it can. */
  refused?: string;
  /** The watchdog must be restarted with the new options (its revert history starts over). */
  watchdog: boolean;
  /** The kiosk viewer must be restarted (or stopped, or started). */
  kiosk: boolean;
  /** Nothing at all changed. */
  unchanged: boolean;
}

/** The sections that decide which VM runs and how it was booted: only a daemon restart changes them. */
const RESTART_ONLY = ['vm', 'resources', 'transport', 'services'] as const;

export function planReload(running: ExhibitConfig, next: ExhibitConfig): ReloadPlan {
  const changed = RESTART_ONLY.filter((key) => !isDeepStrictEqual(running[key], next[key]));
  const watchdog = !isDeepStrictEqual(running.watchdog, next.watchdog);
  const kiosk = !isDeepStrictEqual(running.kiosk, next.kiosk);
  const unchanged = changed.length === 0 && !watchdog && !kiosk && running.onStart === next.onStart && running.onStop === next.onStop;
  if (changed.length)
    return { refused: `${changed.join(', ')} changed: that takes a restart of the daemon (systemctl restart), not a reload`, watchdog, kiosk, unchanged };
  return { watchdog, kiosk, unchanged };
}

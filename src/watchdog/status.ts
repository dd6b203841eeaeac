/** The exhibition controller's heartbeat block, field for field (its web page and scripts read these). */
export interface HeartbeatStatus {
  enabled: boolean;
  /** Seconds. */
  timeout: number;
  /** Epoch seconds of the last beat, or null. */
  last_heartbeat: number | null;
  /** Seconds since the last beat (since monitoring started when none came). */
  time_since_heartbeat: number;
  is_timed_out: boolean;
  has_received_heartbeat: boolean;
}

/** What the watchdog as a whole is doing. */
export type WatchdogState = 'waiting' | 'healthy' | 'timed-out' | 'paused' | 'watching' | 'reverting' | 'stopped' | 'failed' | 'closed';

/** `GET /api/v1/status`: the exhibition controller's fields first, then demotool's own. */
export interface WatchdogStatus {
  vm_name: string;
  vm_state: string;
  vm_is_running: boolean;
  snapshot_name: string;
  snapshot_exists: boolean;
  heartbeat: HeartbeatStatus;
  auto_revert_enabled: boolean;
  state: WatchdogState;
  /** libvirt's reason for vm_state ("crashed", "user"...). */
  vm_state_reason: string;
  idle: { enabled: boolean; timeout: number; idle_seconds: number };
  reverts: number;
  last_revert: { reason: string; detail?: string; started_at: string; duration_ms: number; method: string; ok: boolean } | null;
  guest: { http: string | null; serial: boolean; heartbeats: number };
}

/**
 * The commented example config `demotool exhibit init` writes. The repository keeps the same text
 * in examples/exhibit/exhibit.yaml (a unit test checks they are equal, and that it passes `check`).
 */
export const EXAMPLE_CONFIG = `# demotool exhibit: one artwork, one config file.
# Check it with: demotool exhibit check --config exhibit.yaml
# Environment variables DEMOTOOL_EXHIBIT_* override these values (see the README).
# Durations: a number of milliseconds, or a string with a unit: '500ms', '15s', '12m', '1h'.

# The VM: either an existing libvirt domain...
vm:
  domain: artwork
  # ...or an image to define one from (instead of domain):
  # image: debian-12-desktop
  # name: artwork

# CPU and memory, for a VM defined from an image (an existing domain keeps its own; default: half of the host).
# resources:
#   cpus: 2
#   memoryMiB: 4096

# The same options as vm.watchdog(options) in the API.
watchdog:
  # The known-good snapshot every recovery returns to.
  snapshot: ready
  # 'if-missing': take it now when the VM has none; 'always': replace it now; 'never': it must exist.
  takeSnapshot: if-missing
  # No heartbeat from the guest for this long is a fault ('0ms': not judged).
  heartbeatTimeout: 15s
  # No visitor activity reported for this long is a fault ('0ms': off).
  idleTimeout: 12m
  # After each recovery, heartbeats are not judged for this long.
  grace: 5s
  # Recover automatically; false: faults are only logged.
  autoRevert: true
  # 'in-place' (QEMU's loadvm, under a second) or 'snapshot-revert' (libvirt's; QEMU restarts).
  revertMethod: in-place
  # Reverts, then full restarts, then the 'failed' state.
  escalation:
    maxReverts: 5
    windowMs: 10m
    maxRestarts: 3

# How the guest reaches the watchdog: 'http' or 'serial'.
transport: http

# The control API and status page. Without a token it may only listen on loopback.
api:
  host: 127.0.0.1
  port: 8080
  # A file holding the token (16 characters or more), so it stays out of this file;
  # a relative path is next to this file.
  # tokenFile: /etc/demotool/artwork.token

# The guest full-screen on this host's display.
kiosk:
  enabled: false
  # The viewer command, instead of virt-viewer --kiosk --reconnect:
  # viewer: [virt-viewer, --kiosk, --reconnect, artwork]

# On start: 'keep-if-healthy' leaves a running, healthy VM alone (a daemon restart is invisible);
# 'revert' brings it to its snapshot every time the daemon starts.
onStart: keep-if-healthy
# On stop: 'leave-running' or 'shutdown'.
onStop: leave-running
`;

/** The libvirt layer: virsh calls, domain XML, resources and acceleration. Knows nothing of VNC. */
export { Virsh, libvirtUri, DEFAULT_LIBVIRT_URI } from './virsh.js';
export { Domain, type DomainState, type SnapshotInfo } from './domain.js';
export { domainXml, parseOwner, type DomainSpec } from './domain-xml.js';
export { VirshError, VmError } from './errors.js';
export {
  planResources,
  resourceAttempts,
  isAllocationFailure,
  cpuPinning,
  RESOURCE_LIMITS,
  type Resources,
  type HostSize,
} from './resources.js';
export { accelOverride, probeKvm, type Accel, type AccelDecision } from './accel.js';
export { removeStaleVms, type SweepOptions } from './stale.js';
export {
  currentOwner, ownerFilePath, ownerState, readOwner, readDomainXml, writeOwnerFile, type OwnerRecord, type ParsedOwner,
} from './owner.js';
export { hostSize } from './host.js';
export { createOverlay } from './overlay.js';
export { checkSnapshotName } from './snapshot-name.js';
export { GuestNetwork, DEFAULT_GUEST_NETWORK, guestNetworkAvailable, checkGuestNetwork, type GuestNetworkSpec } from './guest-network.js';

/** The libvirt layer: virsh calls, domain XML, resources and acceleration. Knows nothing of VNC. */
export { Virsh, libvirtUri } from './virsh.js';
export { virshCallsSettled } from './virsh-calls.js';
export { Domain, isDomainGone, type SnapshotInfo } from './domain.js';
export { domainXml } from './domain-xml.js';
export { resolveHardware, HARDWARE_PROFILES, DISKS, NICS, VIDEOS, CLOCKS, type Hardware, type HardwareChoice } from './hardware.js';
export { VirshError, VmError } from './errors.js';
export { planResources, resourceAttempts, isAllocationFailure, cpuPinning, type Resources } from './resources.js';
export { accelOverride, probeKvm, type Accel, type AccelDecision } from './accel.js';
export { removeStaleVms } from './stale.js';
export { currentOwner, ownerFilePath, ownerState, readDomainXml, thisProcess, writeOwnerFile, type ParsedOwner } from './owner.js';
export { hostSize } from './host.js';
export { createOverlay } from './overlay.js';
export { createBlankDisk } from './blank-disk.js';
export { checkSnapshotName } from './snapshot-name.js';
export { GuestNetwork, DEFAULT_GUEST_NETWORK, guestNetworkAvailable } from './guest-network.js';
export { readSaveImage, rewriteSaveImageXml, type SaveImageHeader } from './save-image.js';
export { inspectExistingDomain, type ExistingDomain } from './existing-domain.js';

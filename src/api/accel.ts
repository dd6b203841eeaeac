import { access, constants } from 'node:fs/promises';
import { join } from 'node:path';
import { accelOverride, probeKvm, type AccelDecision } from '../libvirt/index.js';
import { ImageCache } from '../images/index.js';
import { stateDir } from './state-directories.js';

let decided: Promise<AccelDecision> | undefined;

/** KVM when DEMOTOOL_ACCEL says so or a real probe boots a guest with it; TCG otherwise. Once per process. */
export function decideAccel(cache: ImageCache = new ImageCache()): Promise<AccelDecision> {
  const forced = accelOverride();
  if (forced) return Promise.resolve({ accel: forced, reason: 'DEMOTOOL_ACCEL' });
  decided ??= (async (): Promise<AccelDecision> => {
    try {
      await access('/dev/kvm', constants.R_OK | constants.W_OK);
    } catch {
      return { accel: 'tcg', reason: '/dev/kvm is missing or not accessible' };
    }
    const tiny = await cache.ensure('tiny');
    if (!tiny.boot || !tiny.readyMarker) return { accel: 'tcg', reason: 'no probe kernel' };
    return probeKvm({ ...tiny.boot, marker: tiny.readyMarker }, { cacheFile: join(stateDir(), 'kvm-probe.json') });
  })();
  return decided;
}

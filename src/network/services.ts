/** One service per configured hostname, made from its spec. */
import { archiveService } from './archive.js';
import { mirrorService } from './mirror.js';
import { mockService } from './mock.js';
import { recordService } from './record.js';
import type { Service } from './service.js';
import type { ServiceSpec } from './service-map.js';

export async function createService(spec: ServiceSpec, host: string): Promise<Service> {
  if ('archive' in spec) return archiveService(spec.archive);
  if ('mirror' in spec) return mirrorService(spec.mirror);
  if ('mock' in spec) return mockService(spec.mock);
  return recordService(spec.record, spec.upstream, host);
}

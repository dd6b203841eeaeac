/**
 * Guest network services: the guest's DNS and web answered on the host from archives, mirrors,
 * mocks or a recording pass-through, over unix sockets; nothing the guest does reaches the internet
 * unless a record service is configured.
 */
export { NetworkError } from './errors.js';
export { LocalCa } from './local-ca.js';
export { NetworkServices, type NetworkServicesOptions } from './network-services.js';
export { formatRequestReport, summarizeRequestLog, type RequestReport } from './report.js';
export type { RequestLogEntry } from './request-log.js';
export { parseServiceMap, type MockRoute, type ServiceMap, type ServiceSpec } from './service-map.js';

/** The exhibition layer: `demotool exhibit`, one artwork run as a daemon from one config file. */
export { loadExhibitConfig, parseExhibitConfig, redactedConfig } from './config.js';
export { ExhibitConfigError } from './config-errors.js';
export { ENV_OVERRIDES, DURATION_FIELDS } from './config-schema.js';
export { parseDuration } from './duration.js';
export { EXAMPLE_CONFIG } from './example-config.js';
export { ExhibitDaemon } from './daemon.js';
export { exhibitVmName } from './vm-name.js';

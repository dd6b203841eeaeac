import { nestedConfig } from '../fixtures-support/config.js';

export default nestedConfig();

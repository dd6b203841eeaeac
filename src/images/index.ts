export { ImageCache } from './cache.js';
export type { ImageCacheOptions, EnsureOptions, CachedImage, Validation, EnsurePlan } from './cache.js';
export { builtInImageNames } from './names.js';
export { ImageBuildError, ImageInUseError, ImageValidationError } from './errors.js';
export type { BuildProgress, VirtBuilderOptions } from './builders/types.js';
export type { BaseImage, BootSpec } from './types.js';

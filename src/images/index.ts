export { ImageCache } from './cache.js';
export type { ImageCacheOptions, EnsureOptions, CachedImage } from './cache.js';
export { builtInImageNames, cacheName as imageCacheName } from './names.js';
export { ImageBuildError, ImageInUseError, ImageValidationError } from './errors.js';
export type { BuildProgress } from './builders/types.js';
export type { BaseImage, BootSpec } from './types.js';

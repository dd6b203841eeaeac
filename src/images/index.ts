export { ImageCache } from './cache.js';
export type { ImageCacheOptions, EnsureOptions, CachedImage, Validation } from './cache.js';
export type { SavedBootDir } from './saved-boot-files.js';
export { builtInImageNames, cacheName as imageCacheName } from './image-names.js';
export { ImageBuildError, ImageInUseError, ImageValidationError, type ImageErrorDetails } from './errors.js';
export type { BuildProgress, VirtBuilderOptions } from './builders/types.js';
export type { BaseImage, BootSpec } from './types.js';
export { imageRecipeSchema, loadRecipeFile, type ImageRecipe } from './recipe.js';
export { domainSpecName, type DomainSource } from './domain-image.js';

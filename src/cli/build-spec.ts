import { UsageError } from '../errors.js';
import { loadRecipeFile, type ImageRecipe } from '../images/index.js';

/** What `demotool images build` builds: the image it names, or the recipe in `--recipe FILE` (YAML). */
export async function buildSpec(name: string | undefined, recipeFile: string | undefined): Promise<string | ImageRecipe> {
  if (name !== undefined && recipeFile !== undefined) throw new UsageError(`give an image name or --recipe FILE, not both (got ${name} and ${recipeFile})`);
  if (recipeFile !== undefined) return loadRecipeFile(recipeFile);
  if (name === undefined)
    throw new UsageError('images build needs an image name or --recipe FILE', 'e.g. demotool images build tiny, or demotool images build --recipe recipe.yaml');
  return name;
}

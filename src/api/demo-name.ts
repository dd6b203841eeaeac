import { UsageError } from '../errors.js';

/**
 * 'My Cool Demo!' → 'my-cool-demo', 'Démo über' → 'démo-über'. Demo names become directory
 * names: letters and digits of any script are kept, everything else folds to '-'.
 */
export function slug(name: string): string {
  const s = String(name)
    .normalize('NFC')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, '-')
    .replace(/^-+|-+$/g, '');
  const cut = [...s].slice(0, 48).join('').replace(/-+$/, '');
  if (!cut) throw new UsageError(`demo name ${JSON.stringify(name)} has no letters or digits`, 'use a name like "my-cool-demo"');
  return cut;
}

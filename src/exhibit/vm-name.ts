import path from 'node:path';
import type { ExhibitConfig } from './config.js';

/** The VM's libvirt name: vm.domain or vm.name as given, else `exhibit-` and the config file's name ('/etc/demotool/exhibit/Nam June.yaml' → 'exhibit-nam-june'). */
export function exhibitVmName(config: Pick<ExhibitConfig, 'vm' | 'file'>): string {
  if ('domain' in config.vm) return config.vm.domain;
  if (config.vm.name) return config.vm.name;
  const base = path
    .basename(config.file)
    .replace(/\.ya?ml$/i, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return `exhibit-${base || 'artwork'}`;
}

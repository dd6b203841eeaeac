/** `demotool exhibit init` and `demotool exhibit check`: the exhibit config file, without starting anything. */
import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { EXAMPLE_CONFIG, ExhibitConfigError, loadExhibitConfig, redactedConfig } from '../exhibit/index.js';

export function registerExhibit(program: Command): void {
  const exhibit = program.command('exhibit').description('run an artwork in a VM as a daemon (the config file, so far)');
  exhibit
    .command('init [path]')
    .description('write a commented example config (default ./exhibit.yaml)')
    .option('--force', 'overwrite an existing file')
    .action(async (file: string | undefined, opts: { force?: boolean }) => {
      const target = file ?? 'exhibit.yaml';
      try {
        await writeFile(target, EXAMPLE_CONFIG, { flag: opts.force ? 'w' : 'wx' });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        console.error(`demotool: ${target} exists; not overwritten (use --force to replace it)`);
        process.exitCode = 1;
        return;
      }
      console.log(`wrote ${target}; edit it, then: demotool exhibit check --config ${target}`);
    });
  exhibit
    .command('check')
    .description('validate a config and print it resolved (token redacted), starting nothing; exit code 1 when it is invalid')
    .requiredOption('-c, --config <file>', 'the exhibit config file')
    .action(async (opts: { config: string }) => {
      try {
        const config = await loadExhibitConfig(opts.config);
        console.log(JSON.stringify(redactedConfig(config), null, 2));
      } catch (e) {
        if (!(e instanceof ExhibitConfigError)) throw e;
        console.error(e.message);
        process.exitCode = 1;
      }
    });
}

/** `demotool exhibit`: run an artwork's daemon; `init`, `check` and `remove` around it. */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { ExhibitVm } from '../api/internal.js';
import { EXAMPLE_CONFIG, ExhibitConfigError, ExhibitDaemon, exhibitVmName, loadExhibitConfig, redactedConfig } from '../exhibit/index.js';
import { Domain, Virsh } from '../libvirt/index.js';
import { createLogger } from '../log.js';

export function registerExhibit(program: Command): void {
  const exhibit = program
    .command('exhibit')
    .description('run an artwork in a VM as a daemon: `demotool exhibit --config exhibit.yaml` (SIGHUP reloads, SIGTERM stops)')
    .option('-c, --config <file>', 'the exhibit config file')
    .action(async (opts: { config?: string }) => {
      if (!opts.config) {
        exhibit.help({ error: true });
        return;
      }
      await runDaemon(opts.config);
    });
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
      const config = await configOrExit(opts.config);
      if (!config) return;
      if ('domain' in config.vm && !(await domainDefined(config.file, config.vm.domain))) {
        process.exitCode = 1;
        return;
      }
      console.log(JSON.stringify(redactedConfig(config), null, 2));
    });
  exhibit
    .command('remove')
    .description(
      'delete the VM this config defined from an image: its domain, snapshots, overlay and network (an existing domain named by vm.domain is never touched)',
    )
    .requiredOption('-c, --config <file>', 'the exhibit config file')
    .action(async (opts: { config: string }) => {
      const config = await configOrExit(opts.config);
      if (!config) return;
      if ('domain' in config.vm) {
        console.error(`demotool: ${config.file} runs the existing domain ${config.vm.domain}; demotool did not define it and does not remove it`);
        process.exitCode = 1;
        return;
      }
      const name = exhibitVmName(config);
      // The mark on the VM names the config by its absolute path, as the daemon wrote it.
      await ExhibitVm.remove(name, path.resolve(config.file), createLogger('exhibit'));
      console.log(`removed ${name}`);
    });
}

/** The config, or undefined after printing its problems (exit code 1). */
async function configOrExit(file: string) {
  try {
    return await loadExhibitConfig(file);
  } catch (e) {
    if (!(e instanceof ExhibitConfigError)) throw e;
    console.error(e.message);
    process.exitCode = 1;
    return undefined;
  }
}

/**
 * Whether the domain a config names is defined on this host, else false after saying so: a typo
 * would otherwise show only when the daemon starts. Libvirt out of reach is a warning, not a no.
 */
async function domainDefined(file: string, domain: string): Promise<boolean> {
  const virsh = new Virsh({ log: createLogger('exhibit') });
  if ((await virsh.tryRun(['uri'])) === undefined) {
    console.error(`demotool: warning: libvirt at ${virsh.uri} does not answer: vm.domain ${JSON.stringify(domain)} was not looked for`);
    return true;
  }
  if (await new Domain(domain, virsh).exists()) return true;
  console.error(
    `demotool: ${file}: vm.domain ${JSON.stringify(domain)}: no such domain at ${virsh.uri}\n  → \`virsh list --all\` lists the domains defined there`,
  );
  return false;
}

/** Runs until SIGTERM or SIGINT; SIGHUP reloads the config. */
async function runDaemon(file: string): Promise<void> {
  const log = createLogger('exhibit');
  let daemon: ExhibitDaemon;
  try {
    daemon = await ExhibitDaemon.start(file, log);
  } catch (e) {
    if (!(e instanceof ExhibitConfigError)) throw e;
    console.error(e.message);
    process.exitCode = 1;
    return;
  }
  console.log(`demotool exhibit: ${daemon.vm.name} is watched; status page and API at ${daemon.url ?? '(no API)'}`);
  const reload = () => {
    void daemon
      .reload()
      .then((r) => console.log(r.applied ? 'demotool exhibit: config reloaded' : `demotool exhibit: reload refused; the running config stays: ${r.reason}`));
  };
  process.on('SIGHUP', reload);
  // Listeners stay for the daemon's whole life (not once()): a signal that finds no listener of
  // ours left would let other libraries' handlers (signal-exit) end the process mid-stop.
  const stopped = new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      console.log(`demotool exhibit: ${signal}: stopping`);
      void daemon.stop().then(resolve, (e: Error) => {
        console.error(`demotool: stopping failed: ${e.message}`);
        process.exitCode = 1;
        resolve();
      });
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
  await stopped;
}

import { existsSync } from 'node:fs';
import { ImageBuildError } from '../errors.js';
import { run } from '../run.js';
import { guestKernel, hostKernel, kernelVersion } from './guest-kernel.js';
import type { BuildContext, Builder } from './types.js';

/** Packages for a virt-builder workstation image: Fedora's GNOME workstation group. */
const DEFAULT_INSTALL = ['@workstation-product-environment'];
const VIRT_BUILDER_USER = { name: 'demo', password: 'demokudasaidomo' };

/**
 * Runs once in the guest at first boot (virt-builder has no user creation of its own).
 * wheel exists on Fedora, not on Debian: create it, and let it sudo where sudoers.d exists.
 */
export function firstbootCommand(user = VIRT_BUILDER_USER): string {
  return [
    'getent group wheel >/dev/null || groupadd wheel',
    `id -u ${user.name} >/dev/null 2>&1 || useradd -m -s /bin/bash ${user.name}`,
    `usermod -a -G wheel ${user.name}`,
    `echo '${user.name}:${user.password}' | chpasswd`,
    "if [ -d /etc/sudoers.d ]; then echo '%wheel ALL=(ALL) ALL' > /etc/sudoers.d/demotool-wheel; chmod 0440 /etc/sudoers.d/demotool-wheel; fi",
  ].join('; ');
}

export function virtBuilderArgs(template: string, output: string, install: string[], extraArgs: string[] = []): string[] {
  const args = [template, '--format', 'qcow2', '-o', output];
  if (install.length) args.push('--install', install.join(','));
  args.push('--root-password', `password:${VIRT_BUILDER_USER.password}`);
  args.push('--firstboot-command', firstbootCommand());
  return [...args, ...extraArgs];
}

/** libguestfs runs its appliance under TCG here unless told KVM works (nested KVM hangs). */
export function virtBuilderEnv(extra: Record<string, string> = {}, env: NodeJS.ProcessEnv = process.env) {
  const out: Record<string, string> = { LIBGUESTFS_BACKEND: 'direct' };
  if (env.DEMOTOOL_ACCEL !== 'kvm') out.LIBGUESTFS_BACKEND_SETTINGS = 'force_tcg';
  return { ...out, ...extra };
}

/**
 * libguestfs boots its appliance with the host's kernel from /boot. A host without one (a
 * container) gets the distribution's kernel package unpacked into the cache, with all its
 * modules, passed to supermin; supermin still needs the (empty) host directory /lib/modules,
 * which `npx demotool setup --yes` creates.
 */
async function applianceKernel(ctx: BuildContext): Promise<Record<string, string>> {
  if (await hostKernel()) return {};
  if (!existsSync('/lib/modules'))
    throw new ImageBuildError({
      image: ctx.name,
      step: 'virt-builder',
      reason: "this host has no kernel in /boot and no /lib/modules, and libguestfs's appliance needs both",
      hint: '`npx demotool setup --yes` creates the empty /lib/modules (demotool then unpacks a kernel into its cache for libguestfs); or install a kernel package',
    });
  const { kernel, modulesDir } = await guestKernel(ctx, 'everything');
  ctx.log.info("libguestfs's appliance boots a kernel unpacked into the cache", { kernel });
  return { SUPERMIN_KERNEL: kernel, SUPERMIN_MODULES: modulesDir, SUPERMIN_KERNEL_VERSION: kernelVersion(kernel) };
}

/** virt-builder's "[  12.3] Doing something" lines become steps; the rest goes to debug. */
function summarise(ctx: BuildContext) {
  return (line: string) => {
    const m = line.match(/^\[\s*([\d.]+)\]\s+(.*)$/);
    if (!m?.[1] || m[2] === undefined) return ctx.log.debug('virt-builder', { line });
    const text = m[2].trim();
    ctx.log.info('virt-builder', { at: `${m[1]}s`, line: text.length > 160 ? text.slice(0, 157) + '...' : text });
    const step = text.replace(/:.*$/, '').slice(0, 40).toLowerCase();
    ctx.progress(`virt-builder: ${step}`);
  };
}

/** Any image name that is not built in: a virt-builder template (`virt-builder --list`). */
export const buildWithVirtBuilder: Builder = async (ctx) => {
  const vb = ctx.virtBuilder ?? {};
  const install = vb.install ?? DEFAULT_INSTALL;
  ctx.progress('virt-builder', 0);
  const kernel = await applianceKernel(ctx);
  await run('virt-builder', virtBuilderArgs(ctx.name, ctx.out.qcow2, install, vb.extraArgs), {
    image: ctx.name,
    step: 'virt-builder',
    log: ctx.log,
    env: virtBuilderEnv({ ...kernel, ...vb.env }),
    aptPackage: 'guestfs-tools',
    onLine: summarise(ctx),
    hint:
      `check the template name (\`virt-builder --list\`) and that its repository is reachable ` +
      `(or point virtBuilder.env VIRT_BUILDER_DIRS/XDG_CONFIG_HOME at a local one); ` +
      `a group like @workstation-product-environment needs a Fedora template and network access`,
  });
  ctx.progress('done', 100);
  return {
    guestAgent: false,
    user: { ...VIRT_BUILDER_USER },
    minMemoryMiB: install.some((p) => p.includes('workstation')) ? 2048 : 512,
  };
};

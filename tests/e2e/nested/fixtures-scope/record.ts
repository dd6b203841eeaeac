import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import type { TestInfo } from '@playwright/test';
import type { Vm } from '../../../../src/index.js';

/** One JSON line per test: which VM it got, which worker ran it, and when. */
export async function note(testInfo: TestInfo, vm: Vm, boots: number, extra: Record<string, unknown> = {}) {
  const uri = process.env.DEMOTOOL_LIBVIRT_URI || 'qemu:///session';
  const domid = (await execa('virsh', ['-q', '-c', uri, 'domid', vm.name])).stdout.trim();
  const line = {
    file: testInfo.file.split('/').pop(),
    title: testInfo.title,
    vm: vm.name,
    domid,
    vnc: vm.vncEndpoint,
    worker: testInfo.workerIndex,
    pid: process.pid,
    boots,
    demo: vm.demo.name,
    at: Date.now(),
    ...extra,
  };
  appendFileSync(join(process.env.NESTED_OUT!, 'notes.jsonl'), JSON.stringify(line) + '\n');
}

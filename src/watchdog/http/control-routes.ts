import type { FastifyPluginAsync } from 'fastify';
import type { WatchdogPort } from './port.js';
import * as S from './schemas.js';

/**
 * The operator's routes, at the exhibition controller's paths, methods and shapes (its web
 * page works unchanged). Actions answer once they are done, as the exhibition controller's do.
 */
export const controlRoutes: FastifyPluginAsync<{ watchdog: WatchdogPort }> = async (app, { watchdog }) => {
  const vm = () => watchdog.vm.name;
  const both = (url: string, summary: string, handler: () => Promise<{ message: string; details?: object }>) => {
    const schema = { tags: ['control'], summary, security: [{ bearer: [] }], response: { 200: S.message } };
    app.get(url, { schema }, handler);
    app.post(url, { schema }, handler);
  };

  app.get('/api/v1/status', { schema: { tags: ['status'], summary: 'VM and watchdog status', response: { 200: S.status } } }, async () => watchdog.status());
  app.get('/api/v1/heartbeat/status', { schema: { tags: ['status'], summary: 'Heartbeat status', response: { 200: S.heartbeatStatus } } }, async () =>
    watchdog.heartbeatStatus(),
  );
  app.get('/api/v1/snapshots', { schema: { tags: ['status'], summary: "The VM's snapshots", response: { 200: S.snapshotList } } }, async () => ({
    vm_name: vm(),
    snapshots: await watchdog.snapshots(),
  }));

  both('/api/v1/vm/start', 'Start the VM from its snapshot; clears a manual stop', async () => {
    await watchdog.start();
    return { message: `VM '${vm()}' started successfully` };
  });
  both('/api/v1/vm/stop', 'Power the VM off; it stays off until started', async () => {
    await watchdog.stop();
    return { message: `VM '${vm()}' stopped successfully` };
  });
  both('/api/v1/vm/restart', 'Revert the VM to its snapshot now', async () => {
    const record = await watchdog.revert('control API');
    return { message: `VM '${vm()}' restarted successfully`, details: { method: record.method, duration_ms: record.durationMs } };
  });
  both('/api/v1/revert/enable', 'Switch automatic recovery on', async () => {
    watchdog.setAutoRevert(true);
    return { message: 'Automatic revert enabled' };
  });
  both('/api/v1/revert/disable', 'Switch automatic recovery off (maintenance)', async () => {
    watchdog.setAutoRevert(false);
    return { message: 'Automatic revert disabled - manual intervention required on failures' };
  });

  const create = async (name: string | undefined) => {
    const snapshot = name ?? watchdog.options.snapshot;
    await watchdog.createSnapshot(snapshot);
    return { message: `Snapshot '${snapshot}' created successfully for VM '${vm()}'` };
  };
  const createSchema = {
    tags: ['control'],
    summary: 'Take or replace a snapshot',
    security: [{ bearer: [] }],
    querystring: S.snapshotQuery,
    response: { 200: S.message },
  };
  app.get<{ Querystring: { snapshot_name?: string } }>('/api/v1/snapshot/create', { schema: createSchema }, (req) => create(req.query.snapshot_name));
  app.post<{ Querystring: { snapshot_name?: string } }>('/api/v1/snapshot/create', { schema: createSchema }, (req) => create(req.query.snapshot_name));

  const remove = async (name: string) => {
    await watchdog.deleteSnapshot(name);
    return { message: `Snapshot '${name}' deleted successfully` };
  };
  const deleteSchema = {
    tags: ['control'],
    summary: 'Delete a snapshot',
    security: [{ bearer: [] }],
    params: S.snapshotParams,
    response: { 200: S.message, 404: S.errorReply },
  };
  app.delete<{ Params: { snapshot_name: string } }>('/api/v1/snapshot/:snapshot_name', { schema: deleteSchema }, (req) => remove(req.params.snapshot_name));
  app.get<{ Params: { snapshot_name: string } }>('/api/v1/snapshot/delete/:snapshot_name', { schema: deleteSchema }, (req) => remove(req.params.snapshot_name));
};

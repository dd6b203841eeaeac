// The cleanup handler takes a second signal after the first: each SIGINT runs the cleanups pending then.
import { onCleanup } from '../../../src/process-exit.js';

const ran: string[] = [];
process.on('SIGINT', () => undefined); // someone else handles SIGINT too: the process goes on
onCleanup(async () => void ran.push('first'));
process.kill(process.pid, 'SIGINT');
await new Promise((r) => setTimeout(r, 300));
onCleanup(async () => void ran.push('second'));
process.kill(process.pid, 'SIGINT');
await new Promise((r) => setTimeout(r, 300));
process.stdout.write(JSON.stringify({ ran }) + '\n');

import { DemotoolError } from '../errors.js';

/**
 * Runs a user-visible action under a title ("type 'echo hi'", "click 300,200").
 * The Playwright fixtures plug in test.step so the HTML report shows each action.
 */
export type StepRunner = <T>(title: string, body: () => Promise<T>, location?: CallSite) => Promise<T>;

export const directSteps: StepRunner = (_title, body) => body();

/** Where the user called a vm action: file, line and column (Playwright's step location shape). */
export interface CallSite {
  file: string;
  line: number;
  column: number;
}

/** The first stack frame outside demotool's own code: the line of the user's script a report should point at. */
export function userCallSite(): CallSite | undefined {
  for (const frame of new Error().stack?.split('\n').slice(1) ?? []) {
    const m = frame.match(/\(?((?:file:\/\/)?\/[^\s()]+):(\d+):(\d+)\)?$/);
    const [, file, line, column] = m ?? [];
    if (!file || /\/(src|dist\/src)\/(api|compat|vnc|record|libvirt|images)\/|node_modules|node:/.test(file)) continue;
    return { file: file.replace(/^file:\/\//, ''), line: Number(line), column: Number(column) };
  }
  return undefined;
}

/**
 * Puts the user's line on top of a demotool error's stack (its own frames stay below), so a
 * report shows the line of the script that failed, as Playwright does for its own actions.
 * Other errors, and one that already names the line, are left as they are.
 */
export function pointAtCaller(error: unknown, site: CallSite | undefined): unknown {
  if (!site || !(error instanceof DemotoolError) || !error.stack) return error;
  const frame = `    at ${site.file}:${site.line}:${site.column}`;
  if (error.stack.includes(frame)) return error;
  // The message (with its hint) comes first, then the frames: the user's goes before demotool's.
  const lines = error.stack.split('\n');
  const firstFrame = lines.findIndex((l) => /^\s+at /.test(l));
  lines.splice(firstFrame < 0 ? lines.length : firstFrame, 0, frame);
  error.stack = lines.join('\n');
  return error;
}

/** A short, readable rendering of typed text for step titles. */
export function preview(text: string, max = 40): string {
  const shown = JSON.stringify(text.length > max ? `${text.slice(0, max)}…` : text);
  return `'${shown.slice(1, -1)}'`;
}

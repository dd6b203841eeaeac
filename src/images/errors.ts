import { DemotoolError } from '../errors.js';

export interface ImageErrorDetails {
  /** Image name, e.g. 'tiny'. */
  image: string;
  /** Build or validation step that failed, e.g. 'mmdebstrap'. */
  step: string;
  /** What went wrong, one line. */
  reason: string;
  /** Last lines the tool wrote to stderr. */
  stderrTail?: string;
  hint?: string;
  cause?: unknown;
}

function describe(kind: string, d: ImageErrorDetails): string {
  const tail = d.stderrTail?.trim() ? `\n  stderr (tail):\n${indent(d.stderrTail.trim(), '    ')}` : '';
  return `${kind} image '${d.image}' failed at step '${d.step}': ${d.reason}${tail}`;
}

function indent(text: string, pad: string): string {
  return text
    .split('\n')
    .map((l) => pad + l)
    .join('\n');
}

/** Building a base image failed (a tool exited non-zero, a host file is missing...). */
export class ImageBuildError extends DemotoolError {
  readonly image: string;
  readonly step: string;
  readonly stderrTail?: string;

  constructor(d: ImageErrorDetails) {
    super('EIMAGEBUILD', describe('Building', d), { hint: d.hint, cause: d.cause });
    this.image = d.image;
    this.step = d.step;
    this.stderrTail = d.stderrTail;
  }
}

/** A freshly built (or supposedly good) image does not pass validation. */
export class ImageValidationError extends DemotoolError {
  readonly image: string;
  readonly step: string;

  constructor(d: ImageErrorDetails) {
    super('EIMAGEINVALID', describe('Validating', d), { hint: d.hint, cause: d.cause });
    this.image = d.image;
    this.step = d.step;
  }
}

/** An image can't be removed: overlays of VMs (running, or to be reverted) stand on it. */
export class ImageInUseError extends DemotoolError {
  constructor(
    readonly image: string,
    readonly files: string[],
  ) {
    super(
      'EIMAGEINUSE',
      `image '${image}' is in use: ${files.join(', ')} ${files.length === 1 ? 'is the base' : 'are the bases'} of VM overlays; nothing was removed`,
      {
        hint: 'close those VMs first (`demotool cleanup` removes VMs left by killed runs); a rebuild (`demotool images build --rebuild`) is safe meanwhile',
      },
    );
  }
}

import { UsageError } from '../errors.js';

/** One thing wrong with a config: where (file:line:col, or the environment variable), the field, the reason. */
export interface ConfigProblem {
  /** `FILE:LINE:COL`, `FILE` when there is no position, or `environment variable NAME`. */
  where: string;
  /** The field's dotted path in the config ('' for the whole file). */
  field: string;
  reason: string;
}

/** A bad exhibit config: every problem found, each with its place, field and reason. Thrown before anything starts. */
export class ExhibitConfigError extends UsageError {
  override readonly code: string = 'EEXHIBITCONFIG';
  readonly file: string;
  readonly problems: readonly ConfigProblem[];

  constructor(
    file: string,
    problems: readonly ConfigProblem[],
    hint = 'see `demotool exhibit init` for a commented example, and `demotool exhibit check --config FILE`',
  ) {
    const n = problems.length;
    super(`invalid exhibit config ${file} (${n} problem${n === 1 ? '' : 's'}):\n${problems.map((p) => `  ${formatProblem(p)}`).join('\n')}`, hint);
    this.file = file;
    this.problems = problems;
  }
}

function formatProblem(p: ConfigProblem): string {
  return `${p.where}: ${p.field ? `${p.field}: ` : ''}${p.reason}`;
}

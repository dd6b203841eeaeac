/**
 * Runs a user-visible action under a title ("type 'echo hi'", "click 300,200").
 * The Playwright fixtures plug in test.step so the HTML report shows each action.
 */
export type StepRunner = <T>(title: string, body: () => Promise<T>) => Promise<T>;

export const directSteps: StepRunner = (_title, body) => body();

/** A short, readable rendering of typed text for step titles. */
export function preview(text: string, max = 40): string {
  const shown = JSON.stringify(text.length > max ? `${text.slice(0, max)}…` : text);
  return `'${shown.slice(1, -1)}'`;
}

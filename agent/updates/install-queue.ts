/** One install at a time across both machines (DESIGN §7.2: FOTA and SOTA never overlap). */
export class InstallQueue {
  private tail: Promise<void> = Promise.resolve();

  /** `onError`: a step that throws (its store failing) is reported; the steps after it still run. */
  constructor(private readonly onError: (e: unknown) => void) {}

  run(step: () => Promise<void>): void {
    this.tail = this.tail.then(step).catch(this.onError);
  }
}

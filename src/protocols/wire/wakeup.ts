/**
 * Lets a loop sleep until something changes. The loop checks its state, and only when there is nothing
 * to do awaits `wait()`; producers call `wake()`. A wake with nobody waiting is dropped, which is safe
 * because the loop re-checks its state before waiting again.
 */
export class Wakeup {
  private resolve: (() => void) | undefined

  wait(): Promise<void> {
    return new Promise((resolve) => {
      this.resolve = resolve
    })
  }

  wake(): void {
    const resolve = this.resolve
    this.resolve = undefined
    resolve?.()
  }
}

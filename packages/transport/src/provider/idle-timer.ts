/**
 * Calls `onIdle` once `timeout` ms pass after `start()` without `stop()` or
 * another `start()`. `Infinity` (or ≤ 0) never fires. Does not keep the
 * process alive.
 */
export class IdleTimer {
  private timer?: ReturnType<typeof setTimeout>
  private readonly timeout: number
  private readonly onIdle: () => void

  constructor (timeout: number, onIdle: () => void) {
    this.timeout = timeout
    this.onIdle = onIdle
  }

  /** (Re)starts the countdown from now. */
  start (): void {
    this.stop()
    if (!Number.isFinite(this.timeout) || this.timeout <= 0) return
    this.timer = setTimeout(() => {
      this.timer = undefined
      this.onIdle()
    }, this.timeout)
    this.timer.unref?.()
  }

  stop (): void {
    if (this.timer === undefined) return
    clearTimeout(this.timer)
    this.timer = undefined
  }
}

/**
 * The parent's view of a child that speaks in JSON lines on stdout
 * (`{"ready":…}`, `{"result":…}`): await the next line carrying a key, with a
 * time limit; fails with the child's stderr if it exits first.
 */
import { createInterface } from 'node:readline'
import type { ChildProcessWithoutNullStreams } from 'node:child_process'

export class JsonLines {
  private readonly lines: Array<Record<string, unknown>> = []
  private readonly waiters = new Set<() => void>()
  private stderrText = ''
  private exit?: { code: number | null, signal: NodeJS.Signals | null }

  constructor (readonly name: string, readonly child: ChildProcessWithoutNullStreams) {
    child.stderr.setEncoding('utf8')
    child.stderr.on('data', (chunk: string) => { this.stderrText = (this.stderrText + chunk).slice(-20_000) })
    createInterface({ input: child.stdout }).on('line', (text) => {
      if (!text.startsWith('{')) return
      try {
        this.lines.push(JSON.parse(text) as Record<string, unknown>)
      } catch {
        return
      }
      this.wake()
    })
    child.once('close', (code, signal) => {
      this.exit = { code, signal }
      this.wake()
    })
  }

  get stderr (): string {
    return this.stderrText
  }

  /** The value of the first line with `key` not taken yet. */
  async next<T> (key: string, timeoutMs = 60_000): Promise<T> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const i = this.lines.findIndex((l) => key in l)
      if (i >= 0) return this.lines.splice(i, 1)[0]![key] as T
      if (this.exit != null) {
        throw new Error(`${this.name} exited (${String(this.exit.code ?? this.exit.signal)}) before a "${key}" line\n${this.stderrText}`)
      }
      const left = deadline - Date.now()
      if (left <= 0) throw new Error(`${this.name}: no "${key}" line within ${timeoutMs} ms\n${this.stderrText}`)
      await new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(timer)
          this.waiters.delete(done)
          resolve()
        }
        const timer = setTimeout(done, left)
        this.waiters.add(done)
      })
    }
  }

  /** Closes the child's stdin (the signal to finish) and returns its `result` line. */
  async finish<T> (timeoutMs = 30_000): Promise<T> {
    this.child.stdin.end()
    return this.next<T>('result', timeoutMs)
  }

  kill (): void {
    if (this.exit == null) this.child.kill('SIGKILL')
  }

  private wake (): void {
    for (const w of [...this.waiters]) w()
  }
}

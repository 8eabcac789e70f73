import type { SharedContent } from './serve-session.js'
import type { WireErrorCode } from '../protocol/constants.js'

/** One answer a provider session owes its receiver, in the order asked. */
export type SessionTask =
  | { kind: 'open', content: SharedContent | undefined, cid: string, wantManifest: boolean }
  | { kind: 'chunk', content: SharedContent, index: number }
  | { kind: 'error', index: number, code: WireErrorCode, message: string }

/**
 * The bounded FIFO between a session's reader and its sender:
 *
 *   reader ── add(task) ──► [ t1 t2 … ≤ max ] ──► next() ── sender ── done()
 *
 * A chunk index queued or being sent is not queued again (`add` returns
 * `duplicate`). `add` returns `full` instead of queueing past `max` tasks
 * (queued plus the one being sent), which the session treats as abuse.
 */
export class SessionWork {
  private readonly tasks: SessionTask[] = []
  private readonly chunks = new Set<number>()
  private current?: SessionTask
  private ended = false
  private waiter?: (task: SessionTask | undefined) => void
  private readonly max: number

  constructor (max: number) {
    this.max = max
  }

  /** Tasks queued or being sent. */
  get outstanding (): number {
    return this.tasks.length + (this.current === undefined ? 0 : 1)
  }

  /** Nothing queued and nothing being sent. */
  get idle (): boolean {
    return this.outstanding === 0
  }

  add (task: SessionTask): 'queued' | 'duplicate' | 'full' {
    if (task.kind === 'chunk' && this.chunks.has(task.index)) return 'duplicate'
    if (this.outstanding >= this.max) return 'full'
    if (task.kind === 'chunk') this.chunks.add(task.index)
    const waiter = this.waiter
    if (waiter !== undefined) {
      this.waiter = undefined
      this.current = task
      waiter(task)
    } else {
      this.tasks.push(task)
    }
    return 'queued'
  }

  /** The next task (it is "being sent" until `done()`), or undefined once ended and drained. */
  async next (): Promise<SessionTask | undefined> {
    const task = this.tasks.shift()
    if (task !== undefined) {
      this.current = task
      return task
    }
    if (this.ended) return undefined
    return new Promise((resolve) => { this.waiter = resolve })
  }

  /** The task from `next()` was answered. */
  done (): void {
    if (this.current?.kind === 'chunk') this.chunks.delete(this.current.index)
    this.current = undefined
  }

  /** No more tasks: `next()` drains the queue, then returns undefined. */
  end (): void {
    this.ended = true
    const waiter = this.waiter
    this.waiter = undefined
    waiter?.(undefined)
  }

  /** Drops everything queued and ends. */
  clear (): void {
    this.tasks.length = 0
    this.chunks.clear()
    this.end()
  }
}

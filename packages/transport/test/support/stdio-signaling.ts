/**
 * Signaling between child processes through their parent: each child's
 * `StdioSignaling` writes `{"signal":{"to","message"}}` lines on stdout and
 * reads `{"signal":{"from","message"}}` lines on stdin; the parent's
 * `linkChildren` forwards them by id. Other JSON lines (`ready`, `result`)
 * are for the parent. Used by two-process WebRTC tests and benchmarks, where
 * peers live in separate processes inside a network namespace.
 */
import { createInterface } from 'node:readline'
import { TypedEventEmitter } from 'main-event'
import type { AbortOptions, SignalMessage, Signaling, SignalingEvents, SignalingRoute } from '@chiral/core'
import type { ChildProcessWithoutNullStreams } from 'node:child_process'

/** A line a child prints on stdout. */
export type ChildLine =
  | { signal: { to: string, message: SignalMessage } }
  | { ready: true }
  | { result: unknown }

/** The child's side: a Signaling over this process's stdin/stdout. */
export class StdioSignaling extends TypedEventEmitter<SignalingEvents> implements Signaling {
  readonly id: string
  private lines?: ReturnType<typeof createInterface>

  /** `onLine` gets every other JSON line the parent sends (e.g. `{"go":true}`). */
  constructor (id: string, private readonly onLine: (line: Record<string, unknown>) => void = () => {}) {
    super()
    this.id = id
  }

  async start (): Promise<void> {
    if (this.lines != null) return
    this.lines = createInterface({ input: process.stdin })
    this.lines.on('line', (line) => {
      if (!line.startsWith('{')) return
      const parsed = JSON.parse(line) as { signal?: { from: string, message: SignalMessage } }
      if (parsed.signal != null) {
        this.safeDispatchEvent('signal', { detail: { from: parsed.signal.from, message: parsed.signal.message, route: 'websocket' } })
      } else {
        this.onLine(parsed)
      }
    })
  }

  async stop (): Promise<void> {
    this.lines?.close()
    this.lines = undefined
  }

  async send (to: string, message: SignalMessage, options: AbortOptions = {}): Promise<SignalingRoute> {
    options.signal?.throwIfAborted()
    printLine({ signal: { to, message } })
    return 'websocket'
  }
}

/** Prints one JSON line for the parent. */
export function printLine (line: ChildLine): void {
  process.stdout.write(JSON.stringify(line) + '\n')
}

/** Prints the result line and exits once it is written (native threads would keep the process alive). */
export function finishWith (result: unknown): void {
  process.stdout.write(JSON.stringify({ result }) + '\n', () => process.exit(0))
}

export interface LinkedChild {
  id: string
  child: ChildProcessWithoutNullStreams
}

/**
 * The parent's side: forwards signal lines between children by id, and
 * hands every other JSON line to `onLine`. Resolves with each child's
 * `result` once all have exited (rejects if one fails).
 */
export function linkChildren (children: LinkedChild[], onLine: (id: string, line: ChildLine) => void = () => {}): Promise<Record<string, unknown>> {
  const byId = new Map(children.map(c => [c.id, c]))
  const results: Record<string, unknown> = {}
  return Promise.all(children.map(async ({ id, child }) => {
    let stderr = ''
    child.stderr.setEncoding('utf8')
    child.stderr.on('data', (chunk: string) => { stderr = (stderr + chunk).slice(-20_000) })
    const lines = createInterface({ input: child.stdout })
    lines.on('line', (text) => {
      if (!text.startsWith('{')) return
      const line = JSON.parse(text) as ChildLine
      if ('signal' in line) {
        const target = byId.get(line.signal.to)
        if (target == null || target.child.stdin.destroyed) return
        target.child.stdin.write(JSON.stringify({ signal: { from: id, message: line.signal.message } }) + '\n')
      } else {
        if ('result' in line) results[id] = line.result
        onLine(id, line)
      }
    })
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
      child.once('error', reject)
      child.once('close', (c, s) => { resolve([c, s]) })
    })
    if (code !== 0) throw new Error(`${id} exited with ${String(code ?? signal)}\n${stderr}`)
  })).then(() => results)
}

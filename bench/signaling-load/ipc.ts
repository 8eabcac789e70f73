/** What the benchmark's processes tell each other over IPC, and the sizes they share. */
import type { ChildProcess } from 'node:child_process'

/** Clients per client process (a process holds at most ~19,900 sockets here). */
export const PER_PROCESS = Number(process.env.CLIENTS_PER_PROCESS ?? 5000)
/** Client pairs that exchange offers while latency is measured. */
export const PAIRS = 100
/** Connections a server accepts at most: higher than a process can hold, so the open-file limit decides. */
export const NO_CAP = 1_000_000

export interface ServerStats { registered: number, clients: number, heapUsed: number, cluster?: string }
export interface LatencyResult { samples: number[], sent: number, lost: number, errors: number, pairs: number, crossInstance: number }

export type Msg =
  | { kind: 'port', port: number }
  | ({ kind: 'stats' } & ServerStats)
  | { kind: 'ready', connected: number, failed: number, perUrl: number[] }
  | ({ kind: 'latency' } & LatencyResult)

/** The next IPC message of `kind` from `proc`; rejects if the process exits first. */
export async function next<T extends Msg['kind']> (proc: ChildProcess, kind: T): Promise<Extract<Msg, { kind: T }>> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: Msg): void => {
      if (m.kind !== kind) return
      cleanup()
      resolve(m as Extract<Msg, { kind: T }>)
    }
    const onExit = (code: number | null, signal: string | null): void => {
      cleanup()
      reject(new Error(`process ${proc.pid ?? '?'} exited (${code ?? signal ?? '?'}) before "${kind}"`))
    }
    const cleanup = (): void => { proc.off('message', onMessage); proc.off('exit', onExit) }
    proc.on('message', onMessage)
    proc.once('exit', onExit)
  })
}

/**
 * The `chiral` command as the browser scenarios' Node peer: `share` runs as
 * a child process until stopped, `get` runs to its end; both speak `--json`
 * (one event per line, packages/cli/src/cli-events.ts). Run inside the
 * scenario's network namespace, like the node and the browser.
 */
import { spawn } from 'node:child_process'
import { CLI } from '../../cli/support.js'
import type { ChildProcess } from 'node:child_process'

type Event = Record<string, unknown> & { event: string }

export interface CliDownload {
  method: string
  bytesByMethod: Record<string, number>
  /** Each path's last state, from the `path` events. */
  pathReports: Array<{ path: string, method: string, status: string, setupMs?: number, error?: string }>
  /** The paths new requests moved to, in order. */
  switches: string[]
  path: string
  bytes: number
}

export interface CliPeer {
  /** Methods of the sessions the sharing command served. */
  served: string[]
  /** `chiral share <path>`; resolves with the content id once it is announced. */
  share(path: string): Promise<string>
  /** `chiral get <cid> -o <directory>`, to its end. */
  fetch(cid: string, directory: string): Promise<CliDownload>
  stop(): Promise<void>
}

export interface CliPeerInit {
  signalingUrl: string
  /** Offer the direct WebRTC path (default true). */
  direct?: boolean
  log?: (line: string) => void
}

interface Running { child: ChildProcess, events: Event[], exited: Promise<number | null>, stderr: () => string }

function start (args: string[], onEvent: (e: Event) => void): Running {
  const child = spawn(process.execPath, [CLI, ...args, '--json'], { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '' } })
  const events: Event[] = []
  let partial = ''
  let err = ''
  child.stdout!.on('data', (d: Buffer) => {
    const lines = (partial + d.toString()).split('\n')
    partial = lines.pop() ?? ''
    for (const line of lines.filter((l) => l.length > 0)) {
      const event = JSON.parse(line) as Event
      events.push(event)
      onEvent(event)
    }
  })
  child.stderr!.on('data', (d: Buffer) => { err = (err + d.toString()).slice(-4000) })
  const exited = new Promise<number | null>((resolve) => { child.once('exit', (code) => { resolve(code) }) })
  return { child, events, exited, stderr: () => err }
}

export function startCliPeer (init: CliPeerInit): CliPeer {
  const common = ['--signaling', init.signalingUrl, ...(init.direct === false ? ['--no-direct'] : [])]
  const served: string[] = []
  let sharing: Running | undefined
  return {
    served,
    async share (path) {
      let ready: (cid: string) => void = () => {}
      const shared = new Promise<string>((resolve) => { ready = resolve })
      let cid = ''
      sharing = start(['share', path, ...common], (e) => {
        init.log?.(`chiral share: ${JSON.stringify(e)}`)
        if (e.event === 'shared') cid = String(e.cid)
        if (e.event === 'ready') ready(cid)
        if (e.event === 'serve') served.push(String(e.method))
      })
      const ended = sharing.exited.then((code) => { throw new Error(`chiral share exited (${String(code)}) before sharing: ${sharing!.stderr()}`) })
      return Promise.race([shared, ended])
    },
    async fetch (cid, directory) {
      const get = start(['get', cid, '-o', directory, ...common], (e) => { init.log?.(`chiral get: ${JSON.stringify(e)}`) })
      const code = await get.exited
      const done = get.events.find((e) => e.event === 'done')
      if (code !== 0 || done === undefined) throw new Error(`chiral get exited ${String(code)}: ${get.stderr()}`)
      const paths = new Map<string, CliDownload['pathReports'][number]>()
      for (const e of get.events.filter((e) => e.event === 'path')) {
        paths.set(String(e.path), {
          path: String(e.path),
          method: String(e.method),
          status: String(e.type) === 'dialing' ? 'dialing' : String(e.type),
          ...(typeof e.setupMs === 'number' ? { setupMs: e.setupMs } : {}),
          ...(typeof e.error === 'string' ? { error: e.error } : {})
        })
      }
      return {
        method: String(done.method),
        bytesByMethod: done.bytesByMethod as Record<string, number>,
        pathReports: [...paths.values()],
        switches: get.events.filter((e) => e.event === 'switch').map((e) => String(e.method)),
        path: String(done.path),
        bytes: Number(done.bytes)
      }
    },
    async stop () {
      if (sharing === undefined || sharing.child.exitCode !== null) return
      sharing.child.kill('SIGINT')
      const timer = setTimeout(() => { sharing?.child.kill('SIGKILL') }, 6000)
      await sharing.exited
      clearTimeout(timer)
    }
  }
}

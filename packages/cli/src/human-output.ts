/**
 * Text for people. stdout gets what a person (or a script) keeps: content ids
 * and links, one line per session served, the fetch summary. stderr gets
 * progress bars and status, and only when it is a terminal, so a pipe or log
 * sees stdout's lines and, on failure, the one `chiral: …` line.
 *
 *   $ chiral get bafy…
 *   fetched photo.jpg: 48.0 MB in 12.3 s (3.9 MB/s), mostly relay
 *     paths: relay 40.0 MB, webrtc 8.0 MB; 1 switch
 *     saved to /home/me/photo.jpg
 */
import { basename } from 'node:path'
import { writeFailure } from './failure.js'
import { formatBytes, formatDuration, formatRate, shortPeerId } from './format.js'
import { createProgressBar } from './progress.js'
import type { CliEvent } from './cli-events.js'
import type { OutputStreams, Reporter } from './output.js'
import type { ProgressBar } from './progress.js'

export function humanReporter ({ stdout, stderr }: OutputStreams): Reporter {
  const tty = stderr.isTTY === true
  let bar: ProgressBar | undefined
  let barFor: string | undefined
  /** The method the live bar shows: the latest switch's or chunk's, whichever came last. */
  let method: string | undefined

  const endBar = (): void => {
    bar?.stop()
    bar = undefined
    barFor = undefined
  }
  const barOf = (key: string, label: string): ProgressBar => {
    if (bar !== undefined && barFor === key) return bar
    endBar()
    bar = createProgressBar(label, stderr)
    barFor = key
    return bar
  }
  /** Status for a person at a terminal; nothing in pipes and logs. */
  const status = (line: string): void => {
    if (!tty) return
    endBar()
    stderr.write(`${line}\n`)
  }
  const out = (line: string): void => {
    endBar()
    stdout.write(`${line}\n`)
  }

  return {
    report (event: CliEvent) {
      switch (event.event) {
        case 'started':
          status(`peer ${shortPeerId(event.peerId)} on ${event.signaling}`)
          if (event.reachability.status === 'public' || event.reachability.status === 'private') status(reachabilityLine(event.reachability))
          break
        case 'reachability':
          status(reachabilityLine(event.reachability))
          break
        case 'hashing':
          if (tty) barOf(`hashing ${event.file}`, `hashing ${basename(event.file)}`).update(event.bytes, event.total)
          break
        case 'shared':
          out(`shared ${event.name} (${formatBytes(event.size)})\n  id:   ${event.cid}${event.link === undefined ? '' : `\n  link: ${event.link}`}`)
          break
        case 'ready':
          status(`serving ${event.files === 1 ? 'the file' : `${event.files} files`}; Ctrl-C stops`)
          break
        case 'serve':
          out(`serving ${shortPeerId(event.peerId)} via ${event.method}`)
          break
        case 'served':
          // Sessions that never asked for content (a raced path nobody used) are not a fetch.
          if (event.cid === undefined && event.bytes === 0) break
          out(`served ${shortPeerId(event.peerId)} via ${event.method}: ${formatBytes(event.bytes)} in ${formatDuration(event.durationMs)} (${formatRate(event.rate)})`)
          break
        case 'finding':
          status(event.search === 1 ? `looking for providers of ${event.cid}` : `still looking for providers (search ${event.search})`)
          break
        case 'path':
          if (event.type === 'down' && tty) status(`path ${event.path} to ${shortPeerId(event.peerId)} went down${event.error === undefined ? '' : `: ${event.error}`}`)
          break
        case 'switch':
          method = event.method
          break
        case 'progress':
          if (!tty) break
          if (event.bytes > 0) method = event.method
          barOf(`fetch ${event.cid}`, 'fetching').update(event.bytes, event.total, {
            rate: event.rate,
            method: event.state === 'reconnecting' ? 'reconnecting…' : method
          })
          break
        case 'done':
          out(summary(event))
          break
        case 'stopped':
          status(`stopped (${event.signal})`)
          break
        case 'error':
          endBar()
          writeFailure(stderr, event.message)
          break
      }
    }
  }
}

/** `reachable directly at /ip4/…` or why only through the relay. */
export function reachabilityLine (r: Extract<CliEvent, { event: 'reachability' }>['reachability']): string {
  switch (r.status) {
    case 'public': return `reachable directly at ${r.addresses.join(', ')}`
    case 'private':
      if (r.reason === 'relay-only') return 'reachable through the relay (no direct listener; --listen adds one)'
      if (r.reason === 'not-confirmed' && r.servers === 0) return 'reachable through the relay (no node answered the direct-reachability check)'
      return `behind NAT, reachable through the relay${r.reason === 'not-confirmed' ? ` (no dial-back to ${r.candidates.join(', ')})` : ''}`
    case 'checking': return 'checking whether other peers can dial this one directly'
    default: return 'reachability unknown'
  }
}

function summary (done: Extract<CliEvent, { event: 'done' }>): string {
  const paths = Object.entries(done.bytesByMethod)
    .sort((a, b) => b[1] - a[1])
    .map(([m, b]) => `${m} ${formatBytes(b)}`)
  const moves = done.switches > 0 ? `; ${done.switches} switch${done.switches > 1 ? 'es' : ''}` : ''
  const lines = [
    `fetched ${done.name}: ${formatBytes(done.bytes)} in ${formatDuration(done.durationMs)} (${formatRate(done.rate)}), mostly ${done.method}`,
    `  paths: ${paths.length === 0 ? 'none (every chunk was already here)' : paths.join(', ')}${moves}`,
    ...(done.resumedBytes > 0 ? [`  resumed: ${formatBytes(done.resumedBytes)} were already here, ${formatBytes(done.transferredBytes)} fetched now`] : []),
    ...(done.recoveries > 0 ? [`  recovered from ${done.recoveries} outage${done.recoveries > 1 ? 's' : ''}`] : []),
    `  saved to ${done.path}`
  ]
  return lines.join('\n')
}

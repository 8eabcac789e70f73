/**
 * How a command reports its events (cli-events.ts), in one of three modes:
 *
 * - `human`: text on stdout (ids, links, served lines, the summary) and, when
 *   stderr is a terminal, progress bars and status there (human-output.ts);
 * - `json`: one JSON event per line on stdout, progress throttled to ~4/s;
 * - `quiet`: only the results: a shared file's content id, a fetched file's path.
 *
 * In every mode an error is one line on stderr: `chiral: <what failed>`.
 */
import { writeFailure } from './failure.js'
import { humanReporter } from './human-output.js'
import { createThrottle } from './throttle.js'
import type { CliEvent } from './cli-events.js'

export type OutputMode = 'human' | 'json' | 'quiet'

export interface Reporter {
  report(event: CliEvent): void
}

export interface OutputStreams {
  stdout: NodeJS.WritableStream
  stderr: NodeJS.WritableStream & { isTTY?: boolean }
}

/** Progress events at most this often per file in JSON. */
export const JSON_PROGRESS_INTERVAL_MS = 250

export function createReporter (mode: OutputMode, streams: OutputStreams = { stdout: process.stdout, stderr: process.stderr }): Reporter {
  if (mode === 'json') return jsonReporter(streams)
  if (mode === 'quiet') return quietReporter(streams)
  return humanReporter(streams)
}

function jsonReporter ({ stdout, stderr }: OutputStreams): Reporter {
  const throttle = createThrottle(JSON_PROGRESS_INTERVAL_MS)
  const states = new Map<string, string>()
  return {
    report (event) {
      if (event.event === 'progress') {
        const changed = states.get(event.cid) !== event.state
        states.set(event.cid, event.state)
        if (!throttle(`progress ${event.cid}`, changed || event.bytes >= event.total)) return
      }
      if (event.event === 'hashing' && !throttle(`hashing ${event.file}`, event.bytes >= event.total)) return
      stdout.write(JSON.stringify(event) + '\n')
      if (event.event === 'error') writeFailure(stderr, event.message)
    }
  }
}

function quietReporter ({ stdout, stderr }: OutputStreams): Reporter {
  return {
    report (event) {
      if (event.event === 'shared') stdout.write(`${event.cid}\n`)
      if (event.event === 'done') stdout.write(`${event.path}\n`)
      if (event.event === 'error') writeFailure(stderr, event.message)
    }
  }
}

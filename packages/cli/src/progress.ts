/**
 * A progress bar on stderr (cli-progress), for hashing and fetching. Only
 * `human-output.ts` creates one, and only when stderr is a terminal.
 *
 *   fetching [==========----------] 52% | 25.1 MB / 48.0 MB | 4.0 MB/s | ETA 6 s | relay
 */
import cliProgress from 'cli-progress'
import { formatBytes, formatDuration, formatRate } from './format.js'

export interface BarDetail {
  /** Bytes per second; without it the bar shows none and no ETA. */
  rate?: number
  /** What carries the bytes now (a method, or `reconnecting`). */
  method?: string
}

export interface ProgressBar {
  update(bytes: number, total: number, detail?: BarDetail): void
  /** Draws the last state and moves to the next line. */
  stop(): void
}

// Payload names differ from cli-progress's own tokens ({eta}, {duration}, {value}, {total}), which would win.
export function createProgressBar (label: string, stream: NodeJS.WritableStream): ProgressBar {
  const bar = new cliProgress.SingleBar({
    stream,
    format: `${label} [{bar}] {percentage}% | {done} / {size}{speedText}{etaText}{via}`,
    barsize: 24,
    fps: 8,
    hideCursor: true,
    linewrap: true,
    // The command handles SIGINT itself (exit code 130); the bar must not exit the process.
    gracefulExit: false
  }, cliProgress.Presets.shades_classic)
  let started = false
  return {
    update (bytes, total, detail = {}) {
      const rate = detail.rate
      const payload = {
        done: formatBytes(bytes),
        size: formatBytes(total),
        speedText: rate === undefined ? '' : ` | ${formatRate(rate)}`,
        etaText: rate === undefined || rate <= 0 || bytes >= total ? '' : ` | ETA ${formatDuration((total - bytes) / rate * 1000)}`,
        via: detail.method === undefined ? '' : ` | ${detail.method}`
      }
      if (!started) {
        bar.start(Math.max(total, 1), bytes, payload)
        started = true
      } else {
        bar.setTotal(Math.max(total, 1))
        bar.update(bytes, payload)
      }
    },
    stop () {
      if (started) bar.stop()
      started = false
    }
  }
}

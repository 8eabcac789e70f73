/**
 * Big files between two demo pages in headless Chromium (network namespace,
 * real chiral-node; see demo.spec.ts for the set-up). The downloading page
 * writes into its origin private file system, so:
 *
 * - 512 MiB arrive, hash-checked, while the downloading page's JS heap
 *   (DevTools protocol, sampled during the transfer) stays under 128 MiB;
 *   the sharing page generated the file into OPFS and shares the disk-backed
 *   File, dropped onto its Share page; the share's QR code carries the link.
 * - a download interrupted by a reload resumes from what OPFS holds: the
 *   reloaded page re-fetches at most one window (8 chunks) of what it had.
 *
 * Each case runs big-scenario.ts in a child process (one JSON line back).
 */
import { existsSync, mkdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { DEFAULT_CHUNK_SIZE } from '@chiral/core'
import { DEFAULT_WINDOW } from '@chiral/transport'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { browserTestsUnavailable } from './support/browser-tests.js'
import { buildDemo, NODE_BUNDLE, REPO } from './support/demo-build.js'
import { runInNetns } from './support/netns-script.js'
import type { BigScenarioInit, BigScenarioResult } from './big-scenario.js'

const MiB = 1024 * 1024
const WORK = join(REPO, '.tmp', 'browser-big')
const SHOTS = join(REPO, '.artifacts', 'screenshots')
const DEMO_DIR = join(WORK, 'demo')
const SCRIPT = join(REPO, 'test', 'browser', 'big-scenario.ts')

const reason = await browserTestsUnavailable()
if (reason !== undefined) console.warn(`[browser big-download.spec] skipped: ${reason}`)

async function run (init: Pick<BigScenarioInit, 'mode' | 'sizeBytes' | 'label' | 'reloadAfterBytes'>, timeoutMs: number): Promise<BigScenarioResult> {
  const full: BigScenarioInit = {
    ...init,
    seed: 0x9e3779b9,
    demoDir: DEMO_DIR,
    nodeBundle: NODE_BUNDLE,
    workDir: join(WORK, init.label),
    screenshotsDir: SHOTS
  }
  return runInNetns<BigScenarioResult>(SCRIPT, full, timeoutMs)
}

const mib = (n: number): string => `${(n / MiB).toFixed(1)} MiB`

// One retry, as in demo.spec.ts: now and then a page finds no provider on the DHT.
describe.skipIf(reason !== undefined)('big downloads into OPFS in headless Chromium (network namespace)', { retry: 1 }, () => {
  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true })
    if (!existsSync(NODE_BUNDLE)) {
      throw new Error(`${NODE_BUNDLE} is missing: build it first (pnpm --filter ./apps/node build, or npm test)`)
    }
    await buildDemo(DEMO_DIR)
  }, 120_000)

  afterAll(() => {
    rmSync(WORK, { recursive: true, force: true })
  })

  it('512 MiB page to page: hash verified, the downloading page\'s JS heap stays under 128 MiB', async () => {
    const size = 512 * MiB
    const r = await run({ mode: 'heap', sizeBytes: size, label: 'big-heap' }, 1_100_000)
    const d = r.download
    expect(d.bytes).toBe(size)
    expect(d.sha256).toBe(r.expectedSha256)
    expect(d.result.resumedBytes).toBe(0)
    // Dropped onto the Share page; its QR code carries the share link.
    expect(r.share.qr.link).toBe(r.share.link)
    expect(r.share.qr.alt).toContain(r.share.link)
    expect(r.share.qr.ready).toBe(true)
    const heap = r.heap!
    expect(heap.samples).toBeGreaterThan(10)
    expect(heap.maxJsHeapUsed).toBeGreaterThan(0)
    expect(heap.maxJsHeapUsed).toBeLessThan(128 * MiB)
    // JSHeapUsedSize alone misses the file: received chunks are ArrayBuffers, whose bytes live outside
    // the V8 heap. With the in-memory sink (OPFS hidden, `downloaderWithoutOpfs`) it stayed near 11 MiB
    // while heap + ArrayBuffers reached 547 MiB; so the ArrayBuffers count here too.
    expect(heap.maxHeapWithBuffers).toBeGreaterThan(0)
    expect(heap.maxHeapWithBuffers).toBeLessThan(128 * MiB)
    console.log(`[browser big] 512 MiB: ${d.result.method}, ${d.ms} ms (${(size / MiB / (d.ms / 1000)).toFixed(1)} MiB/s), ` +
      `JS heap max ${mib(heap.maxJsHeapUsed)}, heap + ArrayBuffers max ${mib(heap.maxHeapWithBuffers)} (${heap.samples} samples), ` +
      `generate ${r.generateMs} ms, hash + announce ${r.share.hashAndAnnounceMs} ms, bytes ${JSON.stringify(d.result.bytesByMethod)}`)
  }, 1_200_000)

  it('a download interrupted by a page reload resumes from OPFS: at most one window is fetched again', async () => {
    const size = 192 * MiB
    const r = await run({ mode: 'resume', sizeBytes: size, label: 'big-resume', reloadAfterBytes: 24 * MiB }, 600_000)
    const d = r.download
    const atReload = r.verifiedAtReload!
    const window = DEFAULT_WINDOW * DEFAULT_CHUNK_SIZE
    expect(d.bytes).toBe(size)
    expect(d.sha256).toBe(r.expectedSha256)
    expect(atReload).toBeGreaterThanOrEqual(24 * MiB)
    expect(d.result.resumedBytes).toBeGreaterThan(0)
    // What the page had verified before the reload and fetched again.
    const refetched = atReload - d.result.resumedBytes
    expect(refetched).toBeLessThanOrEqual(window)
    // After the reload only the rest came over the wire (end-game duplicates aside).
    expect(d.result.transferredBytes).toBeLessThanOrEqual(size - d.result.resumedBytes + window)
    console.log(`[browser big] reload resume: ${mib(atReload)} verified at reload, ${mib(d.result.resumedBytes)} resumed, ` +
      `${mib(Math.max(0, refetched))} fetched again (window ${mib(window)}), ${mib(d.result.transferredBytes)} transferred after the reload, ` +
      `reload to verified ${d.ms} ms`)
  }, 660_000)
})

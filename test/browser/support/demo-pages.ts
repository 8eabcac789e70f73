/**
 * Drives the demo app's pages the way a person would: pick a file, copy the
 * share link, open it, wait, click Save. Reads only what the page shows.
 */
import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Browser, Page } from 'playwright-core'

export interface ShareOutcome {
  cid: string
  link: string
  hashAndAnnounceMs: number
}

export interface DownloadOutcome {
  /** The method badge's value once the download verified. */
  badge: string
  /** Every value the badge showed while downloading, in order. */
  badgeHistory: string[]
  /** What the transport's result said (`method`, `bytesByMethod`, …), as the page shows it. */
  result: {
    method: string
    bytesByMethod: Record<string, number>
    bytes: number
    badChunks: number
    /** Every raced path: status and setup time. */
    pathReports: Array<{ peerId: string, path: string, method: string, status: string, setupMs?: number, error?: string }>
    /** Methods new requests moved to, in order (the first is where the download started). */
    switches: string[]
    timeToFirstByteMs?: number
  }
  sha256: string
  bytes: number
  ms: number
  screenshots: string[]
  midTransferScreenshots: boolean
  /** The paths the downloading page offered its transport (`webrtc`, `relay`). */
  offeredPaths: string[]
}

export async function openDemo (browser: Browser, url: string, log: (line: string) => void): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 900, height: 1000 }, acceptDownloads: true })
  page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') log(`[page ${url}] ${m.type()}: ${m.text()}`) })
  page.on('pageerror', (e) => { log(`[page ${url}] error: ${e.message}`) })
  await page.goto(url)
  return page
}

/** Waits until the page holds a relay reservation (it is reachable). */
export async function waitOnline (page: Page, timeout = 30_000): Promise<void> {
  await page.waitForFunction(() => document.querySelector('.status .badge.ok') !== null, undefined, { timeout })
}

/** Turns direct paths off on the Settings page, as a person would (Save restarts the app), and waits until it is online again. */
export async function turnDirectOff (page: Page): Promise<void> {
  await page.evaluate(() => { window.location.hash = '#/settings' })
  const box = page.getByLabel('Try direct WebRTC connections')
  await box.uncheck()
  await Promise.all([page.waitForEvent('load'), page.getByRole('button', { name: 'Save and restart' }).click()])
  await waitOnline(page)
  await page.evaluate(() => { window.location.hash = '#/network' })
  await page.waitForFunction(() => document.querySelector('[data-testid="offered-paths"]')?.getAttribute('data-paths') === 'relay', undefined, { timeout: 10_000 })
}

/** Shares `content` from page's Share page and returns the content id and link. */
export async function shareFile (page: Page, name: string, content: Buffer): Promise<ShareOutcome> {
  await page.evaluate(() => { window.location.hash = '#/share' })
  const input = page.getByTestId('file-input')
  await input.waitFor({ state: 'attached' })
  await page.waitForFunction(() => !(document.querySelector('[data-testid="file-input"]') as HTMLInputElement).disabled, undefined, { timeout: 30_000 })
  const started = Date.now()
  await input.setInputFiles({ name, mimeType: 'application/octet-stream', buffer: content })
  await page.getByTestId('share-announced').waitFor({ timeout: 60_000 })
  return {
    cid: await page.getByTestId('share-cid').inputValue(),
    link: await page.getByTestId('share-link').inputValue(),
    hashAndAnnounceMs: Date.now() - started
  }
}

export interface DownloadDriveOptions {
  /** Runs once bytes flow, before the mid-transfer screenshots (e.g. to cut a path). */
  whileTransferring?: (page: Page) => Promise<void>
  timeout?: number
}

/**
 * Opens `link` in `page` (which downloads on its own), takes screenshots of
 * the Download and Network pages while bytes flow, waits for verification,
 * clicks Save and hashes the saved file.
 */
export async function downloadFromLink (page: Page, link: string, shotsDir: string, label: string, workDir: string, options: DownloadDriveOptions = {}): Promise<DownloadOutcome> {
  const timeout = options.timeout ?? 120_000
  // Record every method the badge shows, from inside the page. A link to
  // the page already open only changes the hash (no reload), so install the
  // recorder both for a fresh load and into the current document.
  await page.addInitScript({ content: recordBadges })
  const started = Date.now()
  await page.goto(link)
  await page.evaluate(recordBadges)
  const cidHash = new URL(link).hash
  const screenshots: string[] = []
  let mid = false
  let offeredPaths: string[] = []
  try {
    await page.waitForFunction(() => {
      const p = document.querySelector('[data-testid="progress"]') as HTMLProgressElement | null
      const state = document.querySelector('[data-testid="download"]')?.getAttribute('data-state')
      return (p !== null && p.value > 0) || state === 'verified' || state === 'failed'
    }, undefined, { timeout, polling: 20 })
    mid = await page.getByTestId('download').getAttribute('data-state') === 'transferring'
    if (mid) await options.whileTransferring?.(page)
    const download = join(shotsDir, `${label}-download.png`)
    await page.screenshot({ path: download, fullPage: true })
    screenshots.push(download)
    await page.evaluate(() => { window.location.hash = '#/network' })
    await page.getByTestId('path-table').waitFor()
    const network = join(shotsDir, `${label}-network.png`)
    await page.screenshot({ path: network, fullPage: true })
    screenshots.push(network)
    mid = mid && await page.evaluate(() => document.querySelector('[data-testid="path-table"] tr[data-state="open"]') !== null)
    offeredPaths = (await page.getByTestId('offered-paths').getAttribute('data-paths') ?? '').split(',').filter((p) => p !== '')
    await page.evaluate((hash) => { window.location.hash = hash }, cidHash)
  } catch (err) {
    const failed = join(shotsDir, `${label}-failed.png`)
    await page.screenshot({ path: failed, fullPage: true }).catch(() => {})
    throw err
  }
  await page.waitForFunction(() => {
    const state = document.querySelector('[data-testid="download"]')?.getAttribute('data-state')
    return state === 'verified' || state === 'failed'
  }, undefined, { timeout })
  if (await page.getByTestId('download').getAttribute('data-state') === 'failed') {
    const text = (await page.getByTestId('download-error').textContent() ?? '').replace(/\s+/g, ' ').trim()
    await page.screenshot({ path: join(shotsDir, `${label}-failed.png`), fullPage: true }).catch(() => {})
    throw new Error(`the page reports a failed download: ${text}`)
  }
  const ms = Date.now() - started
  const badge = await page.getByTestId('method-badge').getAttribute('data-method') ?? ''
  const result = JSON.parse(await page.getByTestId('result-details').getAttribute('data-result') ?? '{}') as DownloadOutcome['result']
  const badgeHistory = await page.evaluate(() => (window as unknown as { __badgeHistory?: string[] }).__badgeHistory ?? [])
  const [saved] = await Promise.all([page.waitForEvent('download'), page.getByTestId('save').click()])
  const file = join(workDir, `${label}-saved.bin`)
  await saved.saveAs(file)
  const bytes = await readFile(file)
  return {
    badge,
    badgeHistory,
    result,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    bytes: bytes.length,
    ms,
    screenshots,
    midTransferScreenshots: mid,
    offeredPaths
  }
}

/** Waits until the download's badge shows `method` while bytes still flow, and at least `bytes` arrived. */
export async function waitForBadge (page: Page, method: string, bytes = 0, timeout = 30_000): Promise<void> {
  await page.waitForFunction(([m, b]) => {
    const badge = document.querySelector('[data-testid="method-badge"]')?.getAttribute('data-method')
    const p = document.querySelector('[data-testid="progress"]') as HTMLProgressElement | null
    return badge === m && p !== null && p.value >= Number(b)
  }, [method, bytes] as const, { timeout, polling: 10 })
}

export interface PathRow {
  direction: string
  method: string
  state: string
  setupMs?: number
}

/** The Network page's transfer paths table, row by row; with `screenshot`, a full-page shot of it too. */
export async function pathTable (page: Page, screenshot?: string): Promise<PathRow[]> {
  await page.evaluate(() => { window.location.hash = '#/network' })
  await page.getByTestId('path-table').waitFor()
  if (screenshot !== undefined) await page.screenshot({ path: screenshot, fullPage: true })
  return page.locator('[data-testid="path-table"] tbody tr[data-method]').evaluateAll((rows) => rows.map((r) => {
    const ms = r.querySelector('[data-testid="setup-ms"]')?.getAttribute('data-ms') ?? ''
    return {
      direction: r.getAttribute('data-direction') ?? '',
      method: r.getAttribute('data-method') ?? '',
      state: r.getAttribute('data-state') ?? '',
      ...(ms === '' ? {} : { setupMs: Number(ms) })
    }
  }))
}

/** The Share page's count of fetches and their methods. */
export async function fetchesSeen (page: Page): Promise<{ count: number, methods: string[] }> {
  await page.evaluate(() => { window.location.hash = '#/share' })
  const el = page.getByTestId('fetch-count')
  await el.waitFor({ timeout: 10_000 })
  const count = Number(await el.getAttribute('data-count'))
  const methods = await el.locator('[data-method]').evaluateAll((nodes) => nodes.map((n) => n.getAttribute('data-method') ?? ''))
  return { count, methods }
}

/**
 * Runs in the page: keeps `window.__badgeHistory`, every method the badge
 * showed, in order. Plain JavaScript text, so no compiler helper leaks in.
 */
const recordBadges = `(() => {
  if (window.__badgeHistory !== undefined) return
  const seen = []
  window.__badgeHistory = seen
  const observe = () => {
    const m = document.querySelector('[data-testid="method-badge"]')?.getAttribute('data-method')
    if (m != null && m !== '' && seen.at(-1) !== m) seen.push(m)
  }
  new MutationObserver(observe).observe(document, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-method'] })
  observe()
})()`

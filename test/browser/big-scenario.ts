/**
 * Big downloads between two demo pages, run INSIDE a network namespace like
 * scenario.ts (same node, same Chromium). The sharing page generates the
 * file into its OPFS and drops it on the Share page; the downloading page
 * opens the share link and saves the verified file, which Node hashes.
 *
 * - `heap`: samples the downloading page's JS heap (DevTools protocol) for
 *   the whole download.
 * - `resume`: reloads the downloading page once `reloadAfterBytes` verified;
 *   the reloaded page opens the link again and resumes from its OPFS.
 *
 *   ip netns exec <ns> node --conditions=source --import tsx big-scenario.ts '<BigScenarioInit JSON>'
 */
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { launchChromium } from './support/chromium.js'
import { openDemo, waitOnline } from './support/demo-pages.js'
import { startChiralNode } from './support/node-process.js'
import { dropShare, generatedSha256, generateOpfsFile, sampleHeap, sha256OfFile } from './support/opfs-pages.js'
import type { DroppedShare, HeapSamples } from './support/opfs-pages.js'
import type { Browser, Page } from 'playwright-core'
import { reportScenario } from './support/browser-tests.js'

export interface BigScenarioInit {
  mode: 'heap' | 'resume'
  sizeBytes: number
  seed: number
  /** `resume`: reload the downloading page once this many bytes verified. */
  reloadAfterBytes?: number
  /** Hide OPFS from the downloading page, so it falls back to the in-memory sink (to see the heap check fail). */
  downloaderWithoutOpfs?: boolean
  demoDir: string
  nodeBundle: string
  workDir: string
  screenshotsDir: string
  label: string
}

export interface BigScenarioResult {
  expectedSha256: string
  share: DroppedShare
  generateMs: number
  download: {
    sha256: string
    bytes: number
    /** From opening the link (the second time, after a reload) to verified. */
    ms: number
    result: { method: string, bytes: number, resumedBytes: number, transferredBytes: number, durationMs: number, bytesByMethod: Record<string, number> }
  }
  heap?: HeapSamples
  /** `resume`: what the page showed as verified when it unloaded. */
  verifiedAtReload?: number
  log: string[]
}

const init = JSON.parse(process.argv[2] ?? '{}') as BigScenarioInit
const log: string[] = []
const note = (line: string): void => { log.push(line.slice(0, 500)); if (log.length > 200) log.shift() }

/** Runs in the page from its first script on: keeps the progress shown at unload in sessionStorage. */
const keepProgressAtUnload = `addEventListener('pagehide', () => {
  const p = document.querySelector('[data-testid="progress"]')
  if (p !== null) sessionStorage.setItem('chiral-test-verified-at-unload', String(p.value))
})`

/** Runs in the page: reloads it as soon as the progress bar shows `bytes` verified. */
const reloadOnceVerified = `(bytes) => {
  const timer = setInterval(() => {
    const p = document.querySelector('[data-testid="progress"]')
    if (p === null || p.value < bytes) return
    clearInterval(timer)
    location.reload()
  }, 2)
}`

function inPage (fn: string, arg: unknown): string {
  return `(${fn})(${JSON.stringify(arg)})`
}

async function main (): Promise<BigScenarioResult> {
  mkdirSync(init.workDir, { recursive: true })
  mkdirSync(init.screenshotsDir, { recursive: true })
  const node = await startChiralNode({ bundle: init.nodeBundle, host: '0.0.0.0', demoDir: init.demoDir, workDir: init.workDir })
  let browser: Browser | undefined
  try {
    browser = await launchChromium({ workDir: init.workDir })
    const [a, b] = await Promise.all([openOnline(browser, `${node.demoUrl}#/share`), openOnline(browser, `${node.demoUrl}#/network`)])
    const name = `chiral-${init.label}.bin`
    const generateMs = await generateOpfsFile(a, name, init.sizeBytes, init.seed)
    note(`generated ${init.sizeBytes} bytes in the sharing page's OPFS in ${generateMs} ms`)
    const share = await dropShare(a, name)
    const expectedSha256 = generatedSha256(init.sizeBytes, init.seed)
    if (init.downloaderWithoutOpfs === true) {
      await b.evaluate(() => { delete (StorageManager.prototype as { getDirectory?: unknown }).getDirectory })
    }
    let heap: HeapSamples | undefined
    let verifiedAtReload: number | undefined
    let started = Date.now()
    try {
      if (init.mode === 'heap') {
        await b.goto(share.link)
        const sampler = await sampleHeap(b)
        started = Date.now()
        await waitDone(b, 900_000)
        heap = await sampler.stop()
      } else {
        await b.goto(share.link)
        // The link only changed the hash: this document is the one to unload. The page reloads
        // itself (a test's polling from outside can be late by megabytes on a fast link).
        await b.evaluate(keepProgressAtUnload)
        const loaded = b.waitForEvent('load', { timeout: 300_000 })
        await b.evaluate(inPage(reloadOnceVerified, init.reloadAfterBytes ?? init.sizeBytes / 4))
        await loaded
        started = Date.now()
        verifiedAtReload = Number(await b.evaluate(() => sessionStorage.getItem('chiral-test-verified-at-unload')))
        note(`reloaded at ${verifiedAtReload} bytes verified`)
        await waitDone(b, 600_000)
      }
    } catch (err) {
      await b.screenshot({ path: join(init.screenshotsDir, `${init.label}-failed.png`), fullPage: true }).catch(() => {})
      throw err
    }
    const ms = Date.now() - started
    const result = JSON.parse(await b.getByTestId('result-details').getAttribute('data-result') ?? '{}') as BigScenarioResult['download']['result']
    const [saved] = await Promise.all([b.waitForEvent('download', { timeout: 120_000 }), b.getByTestId('save').click()])
    const path = await saved.path()
    const { sha256, bytes } = await sha256OfFile(path)
    return { expectedSha256, share, generateMs, download: { sha256, bytes, ms, result }, ...(heap === undefined ? {} : { heap }), ...(verifiedAtReload === undefined ? {} : { verifiedAtReload }), log }
  } finally {
    await browser?.close().catch(() => {})
    await node.stop()
    note(node.output().slice(-2000))
  }
}

async function openOnline (browser: Browser, url: string): Promise<Page> {
  const page = await openDemo(browser, url, note)
  await waitOnline(page)
  return page
}

/** Waits until the page's download verified; throws with the page's words when it failed. */
async function waitDone (page: Page, timeout: number): Promise<void> {
  await page.waitForFunction(() => {
    const state = document.querySelector('[data-testid="download"]')?.getAttribute('data-state')
    return state === 'verified' || state === 'failed'
  }, undefined, { timeout, polling: 250 })
  if (await page.getByTestId('download').getAttribute('data-state') === 'failed') {
    const text = (await page.getByTestId('download-error').textContent() ?? '').replace(/\s+/g, ' ').trim()
    throw new Error(`the page reports a failed download: ${text}`)
  }
}

reportScenario(main, log)

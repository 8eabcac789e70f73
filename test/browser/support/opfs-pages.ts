/**
 * Big files in the demo's pages without holding them in JS memory: a
 * sharing page generates a file into its origin private file system (a
 * seeded xorshift32 stream, so Node can hash the same bytes without them
 * ever crossing over) and drops the disk-backed File onto the Share page;
 * a CDP session samples the downloading page's JS heap while bytes flow.
 */
import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import type { CDPSession, Page } from 'playwright-core'

/** Folder of the sharing page's OPFS where generated files go. */
const SHARE_DIR = 'test-share'

/**
 * Runs in the page: writes `size` bytes (a multiple of 4) of the xorshift32
 * stream from `seed`, little-endian words, to OPFS `test-share/<name>`, 4 MiB
 * at a time. Plain JavaScript text, so no compiler helper leaks in.
 */
const generateInPage = `async ({ dir, name, size, seed }) => {
  const root = await navigator.storage.getDirectory()
  const folder = await root.getDirectoryHandle(dir, { create: true })
  const writable = await (await folder.getFileHandle(name, { create: true })).createWritable()
  const piece = new Uint32Array(1 << 20)
  let x = seed >>> 0
  for (let done = 0; done < size; done += piece.byteLength) {
    for (let i = 0; i < piece.length; i++) { x = (x ^ (x << 13)) >>> 0; x = (x ^ (x >>> 17)) >>> 0; x = (x ^ (x << 5)) >>> 0; piece[i] = x }
    const n = Math.min(piece.byteLength, size - done)
    await writable.write(n === piece.byteLength ? piece : new Uint8Array(piece.buffer, 0, n))
  }
  await writable.close()
  const file = await (await folder.getFileHandle(name)).getFile()
  return file.size
}`

/** Runs in the page: drags OPFS `test-share/<name>` (the disk-backed File) onto the Share page's drop zone. */
const dropInPage = `async ({ dir, name }) => {
  const root = await navigator.storage.getDirectory()
  const file = await (await (await root.getDirectoryHandle(dir)).getFileHandle(name)).getFile()
  const data = new DataTransfer()
  data.items.add(file)
  const zone = document.querySelector('[data-testid="drop-zone"]')
  if (zone === null) throw new Error('no drop zone on this page')
  for (const type of ['dragenter', 'dragover', 'drop']) {
    zone.dispatchEvent(new DragEvent(type, { bubbles: true, cancelable: true, dataTransfer: data }))
  }
}`

function inPage (fn: string, arg: unknown): string {
  return `(${fn})(${JSON.stringify(arg)})`
}

/** Generates the file in `page`'s OPFS; returns how long it took. */
export async function generateOpfsFile (page: Page, name: string, size: number, seed: number): Promise<number> {
  const started = Date.now()
  const written = await page.evaluate(inPage(generateInPage, { dir: SHARE_DIR, name, size, seed })) as number
  if (written !== size) throw new Error(`generated ${written} bytes instead of ${size}`)
  return Date.now() - started
}

/** SHA-256 (hex) of the bytes `generateOpfsFile` writes for `size` and `seed`, computed in Node. */
export function generatedSha256 (size: number, seed: number): string {
  const hash = createHash('sha256')
  const piece = new Uint32Array(1 << 20)
  let x = seed >>> 0
  for (let done = 0; done < size; done += piece.byteLength) {
    for (let i = 0; i < piece.length; i++) { x = (x ^ (x << 13)) >>> 0; x = (x ^ (x >>> 17)) >>> 0; x = (x ^ (x << 5)) >>> 0; piece[i] = x }
    const n = Math.min(piece.byteLength, size - done)
    hash.update(new Uint8Array(piece.buffer, 0, n))
  }
  return hash.digest('hex')
}

export interface DroppedShare {
  cid: string
  link: string
  hashAndAnnounceMs: number
  /** What the share's QR code carries (its `data-link`) and its alt text. */
  qr: { link: string, alt: string, ready: boolean }
}

/** Drops the generated file on the Share page (a drag-and-drop, as a person would) and waits until it is announced. */
export async function dropShare (page: Page, name: string, timeout = 300_000): Promise<DroppedShare> {
  await page.evaluate(() => { window.location.hash = '#/share' })
  await page.getByTestId('drop-zone').waitFor()
  await page.waitForFunction(() => !(document.querySelector('[data-testid="file-input"]') as HTMLInputElement).disabled, undefined, { timeout: 30_000 })
  const started = Date.now()
  await page.evaluate(inPage(dropInPage, { dir: SHARE_DIR, name }))
  await page.getByTestId('share-announced').waitFor({ timeout })
  const hashAndAnnounceMs = Date.now() - started
  const qr = page.getByTestId('share-qr')
  await page.waitForFunction(() => document.querySelector('[data-testid="share-qr"]')?.getAttribute('data-ready') === 'true', undefined, { timeout: 10_000 })
  return {
    cid: await page.getByTestId('share-cid').inputValue(),
    link: await page.getByTestId('share-link').inputValue(),
    hashAndAnnounceMs,
    qr: {
      link: await qr.getAttribute('data-link') ?? '',
      alt: await qr.getAttribute('alt') ?? '',
      ready: (await qr.getAttribute('src') ?? '').startsWith('data:image/png')
    }
  }
}

export interface HeapSamples {
  /** Largest `JSHeapUsedSize` (Performance.getMetrics) seen, bytes. */
  maxJsHeapUsed: number
  /** Largest V8 heap plus ArrayBuffer backing stores (Runtime.getHeapUsage), bytes; 0 when not reported. */
  maxHeapWithBuffers: number
  samples: number
}

/**
 * Samples a page's JS heap through the DevTools protocol every `everyMs`
 * until `stop()`: `Performance.getMetrics`' JSHeapUsedSize and, where
 * Chromium reports it, the ArrayBuffer backing stores outside that heap.
 */
export async function sampleHeap (page: Page, everyMs = 200): Promise<{ stop: () => Promise<HeapSamples> }> {
  const cdp: CDPSession = await page.context().newCDPSession(page)
  await cdp.send('Performance.enable')
  const result: HeapSamples = { maxJsHeapUsed: 0, maxHeapWithBuffers: 0, samples: 0 }
  let running = true
  const sample = async (): Promise<void> => {
    const { metrics } = await cdp.send('Performance.getMetrics')
    const used = metrics.find((m) => m.name === 'JSHeapUsedSize')?.value ?? 0
    result.maxJsHeapUsed = Math.max(result.maxJsHeapUsed, used)
    const usage = await cdp.send('Runtime.getHeapUsage') as { usedSize: number, backingStorageSize?: number }
    if (usage.backingStorageSize !== undefined) result.maxHeapWithBuffers = Math.max(result.maxHeapWithBuffers, usage.usedSize + usage.backingStorageSize)
    result.samples++
  }
  const loop = (async () => {
    while (running) {
      await sample().catch(() => {})
      await new Promise((resolve) => setTimeout(resolve, everyMs))
    }
  })()
  return {
    stop: async () => {
      running = false
      await loop
      await cdp.detach().catch(() => {})
      return result
    }
  }
}

/** SHA-256 (hex) and size of a file on disk, read as a stream. */
export async function sha256OfFile (path: string): Promise<{ sha256: string, bytes: number }> {
  const hash = createHash('sha256')
  let bytes = 0
  for await (const piece of createReadStream(path, { highWaterMark: 4 << 20 })) {
    hash.update(piece as Buffer)
    bytes += (piece as Buffer).byteLength
  }
  return { sha256: hash.digest('hex'), bytes }
}

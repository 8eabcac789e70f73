/**
 * Manifest throughput and memory: hashes a generated stream (default 1 GiB)
 * into a manifest and reports MB/s and peak RSS, next to a plain one-pass
 * SHA-256 of the same bytes with node:crypto for reference.
 *
 *   pnpm bench bench/manifest.ts [sizeMiB=1024] [concurrency=4]
 */
import { createHash, randomBytes } from 'node:crypto'
import { createManifest } from '@chiral/core'

const sizeMiB = Number(process.argv[2] ?? 1024)
const concurrency = Number(process.argv[3] ?? 4)
const total = sizeMiB * 1024 * 1024
const piece = randomBytes(64 * 1024) // like fs.createReadStream's 64 KiB reads

async function * source (): AsyncGenerator<Uint8Array> {
  for (let sent = 0; sent < total; sent += piece.byteLength) yield piece
}

let peakRss = 0
const sampler = setInterval(() => { peakRss = Math.max(peakRss, process.memoryUsage().rss) }, 20)
const rssBefore = process.memoryUsage().rss

const t0 = performance.now()
const manifest = await createManifest(source(), { concurrency })
const manifestMs = performance.now() - t0
peakRss = Math.max(peakRss, process.memoryUsage().rss)
clearInterval(sampler)

const t1 = performance.now()
const h = createHash('sha256')
for await (const p of source()) h.update(p)
h.digest()
const rawMs = performance.now() - t1

const mb = total / 1e6
const rows = [
  { what: 'createManifest (1 MiB chunks)', 'MB/s': (mb / (manifestMs / 1000)).toFixed(0), seconds: (manifestMs / 1000).toFixed(2) },
  { what: 'node:crypto sha256, one pass', 'MB/s': (mb / (rawMs / 1000)).toFixed(0), seconds: (rawMs / 1000).toFixed(2) }
]
console.log(`manifest benchmark: ${sizeMiB} MiB stream, concurrency ${concurrency}, Node ${process.version}`)
console.table(rows)
console.log(JSON.stringify({
  sizeBytes: total,
  chunks: manifest.chunks.length,
  cid: manifest.cid.toString(),
  manifestMBps: Number((mb / (manifestMs / 1000)).toFixed(1)),
  rawSha256MBps: Number((mb / (rawMs / 1000)).toFixed(1)),
  rssBeforeMiB: Number((rssBefore / 2 ** 20).toFixed(1)),
  peakRssMiB: Number((peakRss / 2 ** 20).toFixed(1)),
  peakRssGrowthMiB: Number(((peakRss - rssBefore) / 2 ** 20).toFixed(1))
}))

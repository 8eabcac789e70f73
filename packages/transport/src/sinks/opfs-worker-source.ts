/**
 * The dedicated worker behind the OPFS sink, as plain JavaScript text (it
 * runs from a Blob URL, so no bundler has to know about it). Browsers give
 * `createSyncAccessHandle()` only to dedicated workers; it writes in place,
 * so what a write put in the file is there even when the page is reloaded
 * mid-transfer. (A main-thread `createWritable()` writes to a swap file that
 * replaces the file only on `close()`: a reload loses everything since.)
 *
 * One request at a time, answered in order: `{ id, op, … }` →
 * `{ id, ok: true, … }` or `{ id, ok: false, name, message }` (the
 * DOMException's name, e.g. `QuotaExceededError`).
 *
 *   open   { dir, data, record }  → { size, record? }  locks both files
 *   read   { position, length }   → { bytes }          (transferred)
 *   reset  { size }               → {}                 empties the data file, then sizes it
 *   write  { position, bytes }    → {}
 *   save   { text }               → {}                 replaces the resume record
 *   finish {}                     → {}                 closes both, deletes the record
 *   close  {}                     → {}                 flushes and closes both
 */
export const OPFS_WORKER_SOURCE = `'use strict'
let dir, data, record, recordName
const encoder = new TextEncoder()
const decoder = new TextDecoder()

async function handle (m) {
  switch (m.op) {
    case 'open': {
      let root = await navigator.storage.getDirectory()
      for (const part of m.dir) root = await root.getDirectoryHandle(part, { create: true })
      dir = root
      recordName = m.record
      data = await (await dir.getFileHandle(m.data, { create: true })).createSyncAccessHandle()
      record = await (await dir.getFileHandle(m.record, { create: true })).createSyncAccessHandle()
      const length = record.getSize()
      let text
      if (length > 0) {
        const bytes = new Uint8Array(length)
        record.read(bytes, { at: 0 })
        text = decoder.decode(bytes)
      }
      return { size: data.getSize(), record: text }
    }
    case 'read': {
      const bytes = new Uint8Array(m.length)
      const n = data.read(bytes, { at: m.position })
      return { bytes: n === m.length ? bytes : bytes.subarray(0, n), transfer: [bytes.buffer] }
    }
    case 'reset':
      data.truncate(0)
      data.truncate(m.size)
      return {}
    case 'write': {
      let written = 0
      while (written < m.bytes.byteLength) {
        written += data.write(m.bytes.subarray(written), { at: m.position + written })
      }
      return {}
    }
    case 'save': {
      const bytes = encoder.encode(m.text)
      record.write(bytes, { at: 0 })
      record.truncate(bytes.byteLength)
      return {}
    }
    case 'finish':
      data.flush()
      data.close()
      record.close()
      data = record = undefined
      await dir.removeEntry(recordName)
      return {}
    case 'close':
      if (data) { data.flush(); data.close() }
      if (record) { record.flush(); record.close() }
      data = record = undefined
      return {}
    default:
      throw new Error('unknown operation ' + m.op)
  }
}

let queue = Promise.resolve()
self.onmessage = (e) => {
  const m = e.data
  queue = queue.then(() => handle(m)).then((r) => {
    const transfer = r.transfer || []
    delete r.transfer
    self.postMessage({ ...r, id: m.id, ok: true }, transfer)
  }, (err) => {
    self.postMessage({ id: m.id, ok: false, name: (err && err.name) || 'Error', message: String((err && err.message) || err) })
  })
}
`

import { mkdir, stat } from 'node:fs/promises'
import { MemoryDatastore } from 'datastore-core'
import { FsDatastore } from 'datastore-fs'
import { ConfigError } from './config.js'
import type { DatastoreSetting } from './config.js'
import type { Datastore } from 'interface-datastore'

/** The node's datastore, opened, with what it is for the log. */
export interface OpenDatastore {
  datastore: Datastore
  /** The folder, or `memory`. */
  location: string
  close(): Promise<void>
}

/**
 * Opens the datastore libp2p keeps DHT provider records and its peer store
 * in. A folder (datastore-fs: one file per key, written to a temporary file
 * and renamed, so a crash leaves whole records; pure JS, so the node stays
 * one bundled file) keeps the records across restarts: peers' records are
 * there for their next searches at once, and the peer store still knows the
 * providers' relay addresses. The folder is made (mode 0700) when missing.
 *
 * Throws ConfigError (one line, exit code 2) when the folder cannot be used.
 */
export async function openDatastore (setting: DatastoreSetting): Promise<OpenDatastore> {
  if (setting.kind === 'memory') {
    return { datastore: new MemoryDatastore(), location: 'memory', close: async () => {} }
  }
  const { path } = setting
  const problem = (err: unknown): ConfigError =>
    new ConfigError(`cannot use datastore folder ${path}: ${(err as Error).message}`)
  try {
    if (!(await stat(path)).isDirectory()) throw new ConfigError(`cannot use datastore folder ${path}: it is not a folder`)
  } catch (err) {
    if (err instanceof ConfigError) throw err
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw problem(err)
    try {
      await mkdir(path, { recursive: true, mode: 0o700 })
    } catch (mkdirErr) {
      throw problem(mkdirErr)
    }
  }
  const datastore = new FsDatastore(path, { createIfMissing: false })
  try {
    // checks that the folder is writable
    await datastore.open()
  } catch (err) {
    throw problem(err)
  }
  return { datastore, location: path, close: async () => { await datastore.close() } }
}

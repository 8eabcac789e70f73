import { StorageQuotaError, StorageUnavailableError } from '../errors.js'

/**
 * Our error for a failure of the browser's file storage (a DOMException's
 * name): a full quota or disk is a `StorageQuotaError`, anything else (no
 * OPFS, the file locked by another tab, not allowed here) a
 * `StorageUnavailableError`.
 */
export function storageError (name: string, message: string, cause?: unknown): StorageQuotaError | StorageUnavailableError {
  if (name === 'QuotaExceededError') {
    return new StorageQuotaError(`Not enough storage space for this file in the browser (${message})`, { cause })
  }
  return new StorageUnavailableError(`The browser's file storage is not usable here: ${name}: ${message}`, { cause })
}

/**
 * Saving a downloaded file where the browser lets the page write to a file
 * the person picks (`showSaveFilePicker`, Chromium): the disk-backed File is
 * streamed into it piece by piece, never held in memory. Elsewhere the page
 * offers a download link of the same File (a Blob URL, no copy either).
 */

interface SavePickerWindow {
  showSaveFilePicker?: (options?: { suggestedName?: string }) => Promise<FileSystemFileHandle>
}

/** True when the browser can save through a file picker. */
export function canPickSaveFile (): boolean {
  return typeof (globalThis as SavePickerWindow).showSaveFilePicker === 'function'
}

/**
 * Asks where to save `blob` and streams it there. Returns the chosen name, or
 * undefined when the person closed the picker.
 */
export async function saveToPickedFile (blob: Blob, suggestedName: string): Promise<string | undefined> {
  const pick = (globalThis as SavePickerWindow).showSaveFilePicker
  if (pick === undefined) throw new Error('This browser cannot save through a file picker')
  let handle: FileSystemFileHandle
  try {
    handle = await pick({ suggestedName })
  } catch (err) {
    if ((err as Error).name === 'AbortError') return undefined
    throw err
  }
  const writable = await handle.createWritable()
  // pipeTo closes the file when the stream ends and aborts it (nothing half-written stays) on an error.
  await blob.stream().pipeTo(writable)
  return handle.name
}

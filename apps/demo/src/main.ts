import { pruneStoredDownloads } from '@chiral/transport'
import { mount } from 'svelte'
import App from './App.svelte'
import { ChiralClient } from './lib/chiral-client.svelte.js'
import { Download } from './lib/download.svelte.js'
import { defaultSettings, loadSettings } from './lib/settings.js'
import { Shares } from './lib/shares.svelte.js'
import './app.css'

const storage = (() => { try { return window.localStorage } catch { return undefined } })()
const defaults = defaultSettings(import.meta.env, window.location)
const settings = loadSettings(storage, defaults)
const client = new ChiralClient(settings)

mount(App, { target: document.getElementById('app')!, props: { client, shares: new Shares(client), download: new Download(client), settings, defaults, storage } })
void client.start()
// Finished downloads an earlier visit stored and never removed (partial ones stay for resuming).
void pruneStoredDownloads().catch(() => {})
window.addEventListener('pagehide', () => { void client.stop() })

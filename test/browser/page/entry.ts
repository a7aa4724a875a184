// The test page's script, bundled by test/browser/real-browser.test.ts with esbuild: analytics-next from the
// registry with its settings given here (no CDN), and the Everflow plugin built from src/browser, registered as
// Segment registers a browser destination's plugins. Events go to the page's own server as /v1/<type>.
import { AnalyticsBrowser } from '@segment/analytics-next'
import type { Analytics, Plugin } from '@segment/analytics-next'
import everflowPlugins, { destination } from '../../../src/browser'
import type { Settings } from '../../../src/browser/generated-types'

declare global {
  interface Window {
    startAnalytics: (settings: Settings) => Promise<void>
    analytics: Analytics
  }
}

window.startAnalytics = async (settings: Settings) => {
  const apiHost = `${window.location.host}/v1`
  const subscription = {
    partnerAction: 'everflowPlugin',
    name: 'Everflow Click ID',
    enabled: true,
    subscribe: destination.actions.everflowPlugin.defaultSubscription ?? '',
    mapping: {}
  }
  const plugins = (await everflowPlugins({ ...settings, subscriptions: [subscription] })) as Plugin[]
  const [analytics] = await AnalyticsBrowser.load(
    {
      writeKey: 'test-write-key',
      plugins,
      cdnSettings: {
        integrations: { 'Segment.io': { apiKey: 'test-write-key', apiHost, protocol: 'http' } },
        // No metrics to Segment: nothing but the events leaves the page.
        metrics: { sampleRate: 0 }
      }
    },
    { integrations: { 'Segment.io': { apiHost, protocol: 'http' } } }
  )
  window.analytics = analytics
}

// The browser suites use the demo's static server (examples/browser/serve.js): /isolated/ paths
// are served with COOP/COEP, /plain/ paths without.
export { serve } from '../../examples/browser/serve.js';

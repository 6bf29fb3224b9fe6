// The layering of ARCHITECTURE.md as data: each folder of src/ and the folders it may import,
// always through their index.ts. `app` composes everything; `cli`, `api` and `web` render `app`.
// scripts/check-layers.mjs enforces it (npm run lint); docs/decisions.md explains departures.
export const LAYERS = {
  core: [],
  connectors: ['core'],
  layers: ['core', 'connectors'],
  symbols: ['core', 'connectors', 'layers'],
  profiles: ['core', 'connectors', 'layers', 'symbols'],
  plugins: ['core', 'connectors', 'layers', 'symbols', 'profiles'],
  lab: ['core', 'connectors', 'layers'],
  events: ['core'],
  detectors: ['core'],
  sensors: ['core', 'events', 'connectors', 'layers', 'symbols', 'profiles'],
  guard: ['core', 'events', 'connectors'],
  alerts: ['core', 'events'],
  evidence: ['core', 'alerts', 'connectors', 'layers'],
  reports: ['core', 'evidence', 'alerts'],
  app: [
    'core',
    'connectors',
    'layers',
    'symbols',
    'profiles',
    'plugins',
    'lab',
    'events',
    'detectors',
    'sensors',
    'guard',
    'alerts',
    'evidence',
    'reports',
  ],
  cli: ['core', 'app'],
  api: ['core', 'app'],
  web: ['core', 'app'],
};

/** Tests and benchmarks may also boot the lab guest, and reach test support via internal.ts. */
export const TEST_EXTRA_LAYERS = ['lab'];
export const ENTRY_POINTS = ['index.ts'];
export const TEST_ENTRY_POINTS = ['index.ts', 'internal.ts'];

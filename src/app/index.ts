/**
 * Public surface of `app`: the composition layer. The CLI, API and dashboard call only these
 * functions, so that every front end behaves the same.
 */
export { VERSION } from './version.js';

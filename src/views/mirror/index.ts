export { mirror, type MirrorOptions, type MirrorStats, type MirrorView } from './view.js';
export type { MirrorInput, MirrorVersioning } from './plan.js';
export { visibleMirrorItem, getMirrored, queryMirror, type MirrorPage, type MirrorReadOptions } from './read.js';
export { MIRROR_HIDDEN_ATTRIBUTES } from './version.js';

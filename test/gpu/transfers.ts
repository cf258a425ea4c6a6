// The GPU tests count transfers and launches with the product's own instrumentation.
export { counts, instrumentGl, instrumentWebGpu, resetCounts, type Counts } from '../../src/engine/gpujs/transfer-count.js';

export { saveCheckpoint, savesInFlight, type SaveOptions } from './save.js';
export { loadCheckpoint } from './load.js';
export { FORMAT, FORMAT_VERSION, type CheckpointInput, type TensorInput, type LoadedCheckpoint, type LoadedTensor } from './format.js';

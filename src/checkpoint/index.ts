export { saveCheckpoint, savesInFlight, removeStaleTemporaries, type SaveOptions } from './save.js';
export { loadCheckpoint, readCheckpointHeader, verifyCheckpointData, type CheckpointHeader } from './load.js';
export { FORMAT, FORMAT_VERSION, type CheckpointInput, type TensorInput, type LoadedCheckpoint, type LoadedTensor } from './format.js';

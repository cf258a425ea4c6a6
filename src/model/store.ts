// Saving and loading whole models as .ckpt files.
import { loadCheckpoint, saveCheckpoint } from '../checkpoint/index.js';
import { parseTrainingRecord } from './record.js';
import { fromCheckpoint, toCheckpoint, type ModelFile } from './serialize.js';

export async function saveModel(path: string, f: ModelFile): Promise<void> {
  await saveCheckpoint(path, toCheckpoint(f));
}

/** A checkpoint with everything checked, its training record field by field: what every command opens. */
export async function loadModel(path: string): Promise<ModelFile> {
  const ck = await loadCheckpoint(path);
  const f = fromCheckpoint(path, ck.metadata, ck.tensors);
  return { ...f, training: parseTrainingRecord(f.training, path) };
}

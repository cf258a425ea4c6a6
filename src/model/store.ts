// Saving and loading whole models as .ckpt files.
import { loadCheckpoint, saveCheckpoint } from '../checkpoint/index.js';
import { fromCheckpoint, toCheckpoint, type ModelFile } from './serialize.js';

export async function saveModel(path: string, f: ModelFile): Promise<void> {
  await saveCheckpoint(path, toCheckpoint(f));
}

export async function loadModel(path: string): Promise<ModelFile> {
  const ck = await loadCheckpoint(path);
  return fromCheckpoint(path, ck.metadata, ck.tensors);
}

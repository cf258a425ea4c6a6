// Saving and loading whole models as .ckpt files.
import { loadCheckpoint, readCheckpointHeader, saveCheckpoint, verifyCheckpointData, type CheckpointHeader } from '../checkpoint/index.js';
import { parseTrainingRecord } from './record.js';
import { checkTensorValues, fromCheckpoint, readModelHeader, toCheckpoint, type ModelFile, type ModelHeader } from './serialize.js';

export async function saveModel(path: string, f: ModelFile): Promise<void> {
  await saveCheckpoint(path, toCheckpoint(f));
}

/** A checkpoint with everything checked, its training record field by field: what every command opens. */
export async function loadModel(path: string): Promise<ModelFile> {
  const ck = await loadCheckpoint(path);
  const f = fromCheckpoint(path, ck.metadata, ck.tensors);
  return { ...f, training: parseTrainingRecord(f.training, path) };
}

export interface InspectedModel extends ModelHeader {
  file: CheckpointHeader;
}

/** What a checkpoint says about its model, from its header alone (the data is not read), checked as loadModel checks it. */
export async function inspectModel(path: string): Promise<InspectedModel> {
  const file = await readCheckpointHeader(path);
  const h = readModelHeader(path, file.metadata, new Map(file.tensors.map((t) => [t.name, t.shape])));
  return { ...h, training: parseTrainingRecord(h.training, path), file };
}

/** Checks an inspected checkpoint's data as loading would, reading it in pieces instead of whole. */
export async function verifyModel(path: string, m: InspectedModel): Promise<void> {
  await verifyCheckpointData(path, m.file, checkTensorValues(path, m.config));
}

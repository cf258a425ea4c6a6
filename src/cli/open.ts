// Loading a checkpoint onto a backend, shared by sample, eval and bench.
import type { Engine } from '../engine/engine-api.js';
import { createEngine, type BackendName } from '../select/create-engine.js';
import { Weights } from '../model/model.js';
import type { ModelFile } from '../model/serialize.js';
import { loadModel } from '../model/store.js';
import { capThreads } from './common-flags.js';
import type { Ui } from './ui.js';

export interface OpenModel {
  file: ModelFile;
  engine: Engine;
  weights: Weights;
}

/** `loaded`: the checkpoint already read (a command that needs its tokenizer before the engine). */
export async function openModel(ui: Ui, ckpt: string, backend: string, threads?: number, loaded?: ModelFile): Promise<OpenModel> {
  const file = loaded ?? (await ui.wait(`Loading ${ckpt}`, () => loadModel(ckpt)));
  const { engine } = await ui.wait(`Starting the ${backend} backend`, () => createEngine(backend as BackendName, { threads: capThreads(threads, ui), shape: { config: file.config, batch: 32, seq: 128 } }));
  return { file, engine, weights: new Weights(engine, file.config, file.params) };
}

// Sizing to a time budget: a larger budget never picks a smaller model, the pick respects the
// characters-per-parameter rule, and dropout follows the passes the budget makes over the text.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../src/engine/engine-api.js';
import { createSimdEngine } from '../src/engine/simd/simd-engine.js';
import { validateConfig } from '../src/model/config.js';
import { countParams, paramLayout } from '../src/model/params.js';
import { CHARS_PER_PARAM, dropoutForEpochs, sizeToBudget } from '../src/train/autosize.js';

let e: Engine;
beforeAll(async () => { e = await createSimdEngine({ threads: 1 }); });
afterAll(() => e.dispose());

const params = (s: { cell: 'gru'; layers: number; hidden: number; embed: number }) =>
  countParams(paramLayout(validateConfig({ ...s, vocab: 65, mlp: 0 })));

describe('sizeToBudget', () => {
  it('gives a longer budget a model at least as large, and one that sees enough characters', async () => {
    const short = await sizeToBudget(e, 'gru', 65, 1, 1e6, 8, 32);
    const long = await sizeToBudget(e, 'gru', 65, 600, 1e6, 8, 32);
    expect(params({ cell: 'gru', ...long })).toBeGreaterThan(params({ cell: 'gru', ...short }));
    // The long pick fits its budget: it was not the fallback smallest candidate.
    expect(long.charsPerSec * 600).toBeGreaterThanOrEqual(CHARS_PER_PARAM * params({ cell: 'gru', ...long }));
  }, 120_000);

  it('drops out only when the budget passes over the text several times', async () => {
    const many = await sizeToBudget(e, 'gru', 65, 2, 1000, 8, 32);
    const once = await sizeToBudget(e, 'gru', 65, 2, 1e12, 8, 32);
    expect(many.dropout).toBeGreaterThan(0);
    expect(once.dropout).toBe(0);
    expect([0, 1.9, 2, 15.9, 16, 100].map(dropoutForEpochs)).toEqual([0, 0, 0.1, 0.1, 0.2, 0.2]);
  }, 60_000);
});

// Memory layout shared with the kernels (assembly/layout.ts).
// Low memory holds the command block; tensors live in an arena above it.

/** Byte address of the control words: sequence, pending count, error flag, op, thread count. */
export const CTL = 64;
/** Byte address of the command's arguments, float64 each. */
export const ARGS = 128;
export const MAX_ARGS = 16;
/** Int32 words of the inference step's barrier (count, generation), on separate cache lines (assembly/infer.ts). */
export const BARRIER = 1024;
/** First byte of the tensor arena. */
export const ARENA_START = 4096;

/** Int32 indices of the control words. */
export const SEQ = CTL / 4;
export const PENDING = CTL / 4 + 1;
export const ERROR = CTL / 4 + 2;
export const OP = CTL / 4 + 3;
export const NT = CTL / 4 + 4;

// Op codes and argument slots live in op-table.ts, which the kernels read too.
export { Op } from './op-table.js';

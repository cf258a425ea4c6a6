// Memory layout shared with the kernels (assembly/kernel-layout.ts).
// Low memory holds the command block; tensors live in an arena above it.

/** Byte address of the control words: sequence, pending count, error flag, op, thread count, join state. */
export const CTL = 64;
/** Byte address of the command's arguments, float64 each. */
export const ARGS = 128;
export const MAX_ARGS = 16;
/** Int32 words of the inference step's barrier (count, generation), on separate cache lines (assembly/infer-step.ts). */
export const BARRIER = 1024;
/** First byte of the tensor arena. */
export const ARENA_START = 4096;

/** Int32 indices of the control words. */
export const SEQ = CTL / 4;
export const PENDING = CTL / 4 + 1;
export const ERROR = CTL / 4 + 2;
export const OP = CTL / 4 + 3;
export const NT = CTL / 4 + 4;
/** Threads inside the current joinable command, or CLOSED (see pool.ts). */
export const STATE = CTL / 4 + 5;
export const CLOSED = -1;
/** The sequence word's low bits: how workers take part in the command it publishes (see pool.ts). */
export const KIND_BITS = 2;
export const JOIN = 0;
export const EVERY = 1;
export const EXIT = 2;
/** Int32 index of the work counter threads claim blocks from (assembly/kernel-layout.ts NEXT), on its own cache line. */
export const NEXT = 960 / 4;

// Op codes and argument slots live in op-table.ts, which the kernels read too.
export { Op } from './op-table.js';

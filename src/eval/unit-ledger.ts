// Scores per unit (line or document), handed out in reading order. Units are scored out of order
// (pieces run side by side and finish at different times), so each unit's sums wait here until
// every piece up to the one holding its last character is done; only units in flight are held.
import type { UnitEnd } from '../text/units.js';

export interface UnitRecord {
  unit: number;
  /** Index of its document. */
  doc: number;
  /** Line number in its document from 1; 0 for a document. */
  line: number;
  /** Its first characters (a line's newline left out). */
  text: string;
  /** Symbols scored. */
  chars: number;
  /** Its characters the model lacks (skipped: neither fed nor scored). */
  unknown: number;
  nats: number;
  /** Dynamic evaluation's nats over the same symbols, where it ran. */
  dynamicNats?: number;
}

interface Sums { chars: number; nats: number; dynamic: number }

export class UnitLedger {
  private readonly sums = new Map<number, Sums>();
  private readonly ended = new Map<number, { end: UnitEnd; lastPiece: number }>();
  private readonly done = new Set<number>();
  /** Every piece below this is done. */
  private frontier = 0;
  private nextUnit = 0;
  emitted = 0;

  constructor(private readonly emit: (r: UnitRecord) => void, private readonly dynamic = false) {}

  score(unit: number, chars: number, nats: number, dynamic = 0): void {
    const s = this.sums.get(unit);
    if (s) {
      s.chars += chars;
      s.nats += nats;
      s.dynamic += dynamic;
    } else {
      this.sums.set(unit, { chars, nats, dynamic });
    }
  }

  /** A unit has been read whole; its last character is in piece `lastPiece` (-1: before any). */
  unitEnded(end: UnitEnd, lastPiece: number): void {
    this.ended.set(end.unit, { end, lastPiece });
    this.flush();
  }

  pieceDone(seq: number): void {
    this.done.add(seq);
    while (this.done.delete(this.frontier)) this.frontier++;
    this.flush();
  }

  private flush(): void {
    for (;;) {
      const e = this.ended.get(this.nextUnit);
      if (!e || e.lastPiece >= this.frontier) return;
      const s = this.sums.get(this.nextUnit) ?? { chars: 0, nats: 0, dynamic: 0 };
      this.ended.delete(this.nextUnit);
      this.sums.delete(this.nextUnit);
      this.nextUnit++;
      this.emitted++;
      this.emit({
        unit: e.end.unit, doc: e.end.doc, line: e.end.line, text: e.end.text, chars: s.chars, unknown: e.end.unknown, nats: s.nats,
        ...(this.dynamic ? { dynamicNats: s.dynamic } : {}),
      });
    }
  }
}

// Text produced a character at a time, written in pieces of many characters: one write per
// character costs a system call each (stdout to a file or pipe is synchronous on Linux), which
// took 5-15% of batch-1 sampling's time. Text waits at most `ms` (or until `chars` pile up), so
// it still appears as it is generated; the timer fires whenever the producer yields to the event
// loop, and flush() writes what is left.
export class Coalescer {
  private parts: string[] = [];
  private size = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly sink: (text: string) => void, private readonly ms = 16, private readonly chars = 4096) {}

  write(text: string): void {
    if (!text) return;
    this.parts.push(text);
    this.size += text.length;
    if (this.size >= this.chars) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), this.ms);
  }

  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.size === 0) return;
    const text = this.parts.length === 1 ? this.parts[0] : this.parts.join('');
    this.parts = [];
    this.size = 0;
    this.sink(text);
  }
}

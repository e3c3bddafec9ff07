// A progress bar on stderr: redrawn in place on a TTY, printed at most every few seconds otherwise.

export class Progress {
  private readonly start = performance.now();
  private lastDraw = 0;
  private readonly tty = Boolean(process.stderr.isTTY);

  constructor(
    private readonly label: string,
    private readonly total: number,
    private readonly enabled = true,
  ) {}

  update(done: number, extra = ""): void {
    if (!this.enabled) return;
    const now = performance.now();
    const final = done >= this.total;
    if (!final && now - this.lastDraw < (this.tty ? 100 : 5000)) return;
    this.lastDraw = now;
    const frac = this.total > 0 ? Math.min(1, done / this.total) : 1;
    const width = 24;
    const filled = Math.round(frac * width);
    const bar = "#".repeat(filled) + "-".repeat(width - filled);
    const secs = ((now - this.start) / 1000).toFixed(1);
    const line = `${this.label} [${bar}] ${done}/${this.total} ${secs}s ${extra}`;
    if (this.tty) process.stderr.write(`\r${line}\x1b[K${final ? "\n" : ""}`);
    else process.stderr.write(`${line}\n`);
  }
}

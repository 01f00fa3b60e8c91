import type { Readable } from 'node:stream';

/**
 * The last lines a child process printed, kept in a ring buffer: when an emulator fails to start,
 * its own words (a configuration error, a port in use) are the explanation, and they are lost if
 * the output is discarded. Bounded, so a chatty emulator that runs for hours costs nothing.
 *
 * @example
 * ```ts
 * const tail = new OutputTail(40);
 * tail.follow(child.stdout!);
 * tail.follow(child.stderr!);
 * // later, on failure:
 * throw new Error(`exited with code 1; last output:\n${tail.text()}`);
 * ```
 */
export class OutputTail {
  private readonly lines: string[] = [];
  private next = 0;
  private readonly partial = new Map<Readable, string>();

  /** @param max lines kept; older lines are dropped. */
  constructor(private readonly max = 40) {}

  /** Keeps the lines `stream` prints; `echo` also receives every chunk as it arrives (e.g. `process.stderr`). */
  follow(stream: Readable, echo?: NodeJS.WritableStream): void {
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      echo?.write(chunk);
      const parts = ((this.partial.get(stream) ?? '') + chunk).split('\n');
      this.partial.set(stream, parts.pop()!);
      for (const p of parts) this.push(p);
    });
    stream.on('end', () => {
      const rest = this.partial.get(stream);
      if (rest) this.push(rest);
      this.partial.delete(stream);
    });
  }

  /** Adds one line. */
  push(line: string): void {
    const l = line.replace(/\r$/, '');
    if (this.lines.length < this.max) this.lines.push(l);
    else this.lines[this.next] = l;
    this.next = (this.next + 1) % this.max;
  }

  /** The kept lines, oldest first, including a line not yet ended by a newline. */
  text(): string {
    const ordered =
      this.lines.length < this.max ? this.lines : [...this.lines.slice(this.next), ...this.lines.slice(0, this.next)];
    const pending = [...this.partial.values()].filter(Boolean);
    return [...ordered, ...pending].join('\n');
  }
}

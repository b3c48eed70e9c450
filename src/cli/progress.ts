import cliProgress from 'cli-progress';

export interface Progress {
  start(total: number): void;
  rows(done: number): void;
  stop(): void;
}

/** A progress bar on stderr; cli-progress stays silent when stderr is not a terminal, so pipes stay clean. */
export function progressBar(label: string, unit = 'rows'): Progress {
  const bar = new cliProgress.SingleBar(
    { format: `${label.padEnd(12)} [{bar}] {percentage}% | {value}/{total} ${unit} | {duration_formatted}`, stream: process.stderr, hideCursor: true },
    cliProgress.Presets.shades_classic,
  );
  return {
    start: (total) => bar.start(total, 0),
    rows: (done) => bar.update(done),
    stop: () => bar.stop(),
  };
}

/** Download progress on stderr: one bar per file, only when stderr is a terminal. */
import cliProgress from "cli-progress";

export type DownloadProgress = (file: string, done: number, total: number) => void;

/** Returns a progress callback and a function that ends the bar. */
export function downloadProgress(stream: NodeJS.WriteStream = process.stderr): {
  onProgress: DownloadProgress | undefined;
  stop: () => void;
} {
  if (!stream.isTTY) return { onProgress: undefined, stop: () => {} };
  const bar = new cliProgress.SingleBar(
    {
      stream,
      format: "downloading {file} [{bar}] {percentage}% {mb}/{totalMb} MB, eta {eta_formatted}",
      hideCursor: true,
    },
    cliProgress.Presets.shades_classic,
  );
  let current = "";
  const mb = (bytes: number) => (bytes / 2 ** 20).toFixed(1);
  return {
    onProgress: (file, done, total) => {
      const known = Number.isFinite(total) ? total : Math.max(done, 1);
      if (file !== current) {
        if (current) bar.stop();
        current = file;
        bar.start(known, done, { file, mb: mb(done), totalMb: mb(known) });
      }
      bar.setTotal(known);
      bar.update(done, { mb: mb(done), totalMb: mb(known) });
    },
    stop: () => {
      if (current) bar.stop();
    },
  };
}

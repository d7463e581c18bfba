import { Argument, Command } from 'commander';
import { ARCHIVES, archiveUrl, downloadAndExtract, type ArchiveSpec, type DownloadResult } from '../../data/download.js';
import { notice, printJson, progressBar, type Progress } from '../io.js';

interface DownloadFlags {
  out: string;
  testSet?: boolean;
  baseUrl?: string;
  json?: boolean;
}

const DATASETS = ['speech-commands'] as const;

const quote = (p: string) => (/[\s'"$]/.test(p) ? `'${p.replace(/'/g, `'\\''`)}'` : p);

export const dataDownloadCommand = new Command('download')
  .description('download, verify (SHA-256) and extract a dataset; an interrupted download resumes')
  .addArgument(new Argument('<dataset>', 'dataset to fetch').choices(DATASETS))
  .option('--out <dir>', 'folder that receives the dataset', 'data')
  .option('--test-set', 'also fetch the separate Speech Commands test set archive')
  .option('--base-url <url>', 'mirror to download from (default $BEE_DOWNLOAD_BASE_URL, else download.tensorflow.org)')
  .option('--json', 'print a JSON summary of what was done')
  .addHelpText(
    'after',
    `
Examples:
  $ bee data download speech-commands
  $ bee data download speech-commands --out ../shared/data --test-set
  $ bee data download speech-commands --base-url https://mirror.example.org/speech/ --json`,
  )
  .action(async (dataset: (typeof DATASETS)[number], flags: DownloadFlags) => {
    const specs: ArchiveSpec[] = [ARCHIVES['speech-commands']];
    if (flags.testSet) specs.push(ARCHIVES['speech-commands-test-set']);

    const done: (DownloadResult & { name: string; url: string })[] = [];
    for (const spec of specs) {
      let bar: Progress | undefined;
      const stopBar = () => {
        bar?.stop();
        bar = undefined;
      };
      try {
        const result = await downloadAndExtract(spec, {
          outDir: flags.out,
          baseUrl: flags.baseUrl,
          onProgress: (received, total) => {
            bar ??= progressBar(`${spec.url} (MB)`, Math.round(total / 1e6));
            bar.update(Math.round(received / 1e6));
          },
          onStatus: (message) => {
            stopBar();
            notice(message);
          },
        });
        done.push({ name: spec.name, url: archiveUrl(spec, flags.baseUrl), ...result });
      } finally {
        stopBar();
      }
    }

    const main = done[0];
    const next = `bee data info --data ${quote(main.dir)}`;
    if (flags.json) return printJson({ dataset, out: flags.out, archives: done, next });
    for (const r of done) {
      console.log(
        r.skipped
          ? `${r.dir}: already downloaded and verified`
          : `${r.dir}: downloaded ${(r.downloadedBytes / 1e6).toFixed(1)} MB${r.resumedFrom ? ` (resumed at ${(r.resumedFrom / 1e6).toFixed(1)} MB)` : ''}, verified, extracted`,
      );
    }
    console.log(`next: ${next}`);
  });

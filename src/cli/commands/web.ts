import fs from 'node:fs';
import { Command } from 'commander';
import { initBackend } from '../../backend/backend.js';
import { packModel } from '../../convert/pack.js';
import { decodePacked, encodePacked } from '../../engine/format.js';
import { isPackedFile, MAX_PACKED_BYTES } from '../../engine/packed-file.js';
import { BeeError } from '../../errors.js';
import { baseOrPretrained, modelOrPretrained } from '../../exits/pretrained.js';
import { loadModelDir } from '../../model/saved-model.js';
import { servePage } from '../../serve/page-server.js';
import { readRegularFile } from '../../util/read-file.js';
import { backendNotice } from '../io.js';
import { wholeNumber } from '../parsers.js';

export const webCommand = new Command('web')
  .description('a web page on this machine that spots keywords from the microphone (or a dropped WAV) with the packed engine')
  .option('--model <path>', 'a packed .bee file, or a binary model directory (packed in memory); default: the pretrained spotter (bee info)')
  .option('--base <path>', 'the model whose body "add a word" learns new words on; default: --model, or the shipped transfer base without --model')
  .option('--port <n>', 'the port on 127.0.0.1 (0: any free one)', wholeNumber(0, 65535), 8080)
  .addHelpText(
    'after',
    `
The page runs bee's own log-mel features and packed engine in the browser (WebAssembly): audio
never leaves the machine, and the page needs no network. Serves on 127.0.0.1 only; Ctrl-C stops.

Examples:
  $ bee web                     # the pretrained spotter; "add a word" starts from the transfer base (bee info)
  $ bee web --model sc.bee
  $ bee web --model sc.bee --base base.bee
  $ bee web --model runs/sc --port 9000`,
  )
  .action(async (flags: { model?: string; base?: string; port: number }) => {
    const model = await packedBytes(modelOrPretrained(flags.model), '--model');
    const base = flags.base === undefined && flags.model !== undefined ? model : await packedBytes(baseOrPretrained(flags.base), '--base');
    const { url } = await servePage({ model, base }, flags.port);
    console.log(`bee web: ${url} (Ctrl-C stops)`);
  });

/** A .bee file's bytes (checked here, not in the page), or a model directory packed in memory; `flag` names it in errors. */
async function packedBytes(source: string, flag: '--model' | '--base'): Promise<Uint8Array> {
  if (!fs.existsSync(source)) throw new BeeError('no such file or model directory', { file: source, hint: `pass ${flag} FILE.bee or a model directory` });
  if (isPackedFile(source)) {
    const bytes = readRegularFile(source, MAX_PACKED_BYTES, 'packed bee model (bee export --model DIR --out FILE.bee)');
    decodePacked(bytes, source);
    return bytes;
  }
  backendNotice(await initBackend());
  const { model, meta, dir } = await loadModelDir(source);
  const bytes = encodePacked(packModel(model, meta, dir).packed);
  model.dispose();
  return bytes;
}

// civet import FILE.safetensors --from torchvision|timm --model NAME [--num-classes N] OUT
import * as path from 'node:path';
import type { Command } from './commands';
import { importStateDict, writeImported, ImportError } from '../export/import';

const list = (xs: string[]) => (xs.length > 10 ? `${xs.slice(0, 10).join(', ')} and ${xs.length - 10} more` : xs.join(', '));

export const importCommand: Command = {
  summary: 'convert a torchvision/timm state dict (safetensors) to a civet model\'s weights',
  usage: `civet import FILE.safetensors --from torchvision|timm --model NAME [--num-classes N]
             [--img-size S] [--options JSON] [--mean a,b,c --std a,b,c] OUT.safetensors

Renames a state dict saved in Python into civet's names for the zoo model NAME and writes it
with the architecture, class count and input convention in its metadata. In Python:
    from safetensors.torch import save_file
    save_file(model.state_dict(), 'model.safetensors')
Prints the keys that matched, the source keys with no counterpart and mis-shaped keys. With
--num-classes different from the checkpoint's, the classifier head is freshly initialised
(reported). --mean/--std give the normalisation the weights expect (default ImageNet's),
--img-size their resolution (default 224). A teacher in a config can name OUT directly:
    teachers: [{ model: NAME, weights: OUT.safetensors }]
and is then fed its own normalisation and size. Exit 1 when model weights are missing.`,
  options: {
    from: { type: 'string' }, model: { type: 'string' }, 'num-classes': { type: 'string' }, 'img-size': { type: 'string' },
    options: { type: 'string' }, mean: { type: 'string' }, std: { type: 'string' },
  },
  async run(v, pos) {
    const fail = (m: string) => { process.stderr.write(`civet import: ${m}\n`); return 2; };
    if (pos.length !== 2) return fail('give the input file and the output file');
    if (v.from !== 'torchvision' && v.from !== 'timm') return fail(`--from must be torchvision or timm, got '${v.from ?? ''}'`);
    if (!v.model) return fail('--model NAME is required (a civet zoo model, see civet info)');
    const int = (s: string | undefined, name: string) => {
      if (s === undefined) return undefined;
      const n = Number(s);
      if (!Number.isInteger(n) || n <= 0) throw new ImportError(`--${name} must be a positive integer, got '${s}'`);
      return n;
    };
    try {
      let options: Record<string, unknown> = {};
      if (v.options) { try { options = JSON.parse(v.options); } catch (e: any) { return fail(`--options: not JSON (${e.message})`); } }
      const nums = (s: string, name: string) => { const a = s.split(',').map(Number); if (!a.every((x) => Number.isFinite(x))) throw new ImportError(`--${name}: expected numbers separated by commas, got '${s}'`); return a; };
      if ((v.mean === undefined) !== (v.std === undefined)) return fail('give --mean and --std together');
      const normalize = v.mean ? { mean: nums(v.mean, 'mean'), std: nums(v.std, 'std') } : undefined;
      const file = path.resolve(pos[0]), out = path.resolve(pos[1]);
      const r = importStateDict(file, { from: v.from, model: v.model, numClasses: int(v['num-classes'], 'num-classes'), imgSize: int(v['img-size'], 'img-size'), options, normalize });
      const rep = r.report;
      process.stdout.write(`${pos[0]} (${v.from} names) → ${v.model}, ${r.numClasses} classes\n  matched ${rep.matched} of ${r.model.stateDict().size} keys\n`);
      for (const n of rep.notes) process.stdout.write(`  ${n}\n`);
      process.stdout.write(`  unmatched source keys: ${rep.unmatched.length ? list(rep.unmatched) : 'none'}\n`);
      process.stdout.write(`  mis-shaped keys: ${rep.misshaped.length ? rep.misshaped.map((m) => `${m.key} (model [${m.model}], file [${m.file}])`).join(', ') : 'none'}\n`);
      if (rep.replacedHead) process.stdout.write(`  replaced classifier head ${rep.replacedHead.modules.join(', ')}: ${rep.replacedHead.fromClasses} → ${rep.replacedHead.toClasses} classes, freshly initialised\n`);
      if (rep.missing.length) {
        process.stderr.write(`civet import: the file lacks ${rep.missing.length} of the model's weights: ${list(rep.missing)}; nothing written\n`);
        r.model.dispose();
        return 1;
      }
      writeImported(out, r, { from: v.from, model: v.model, source: path.basename(file), options });
      r.model.dispose();
      process.stdout.write(`wrote ${out}\n`);
      return 0;
    } catch (e: any) {
      if (e instanceof ImportError) return fail(e.message);
      throw e;
    }
  },
};

// A child process of `civet study --jobs N`: trains one run and sends back its summary (or its
// error's message) over IPC; progress lines go to the parent, which prefixes them with the run.
import { train } from '../train/trainer';

process.once('message', async (m: { config: object | null; resume?: string; out: string; baseDir?: string }) => {
  try {
    const summary = await train(m.config, { resume: m.resume, out: m.out, baseDir: m.baseDir, quiet: true, log: (l) => process.send!({ log: l }) });
    process.send!({ summary }, () => process.exit(0));
  } catch (e: any) {
    process.send!({ error: `${e?.name === 'ConfigError' ? '' : `${e?.name ?? 'Error'}: `}${e?.message ?? e}` }, () => process.exit(1));
  }
});
